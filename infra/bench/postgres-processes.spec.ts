import { describe, expect, it } from 'vitest';
import { dataDirArgument, localPostgresPorts, portArgument, postmasters } from './postgres-processes';
import type { ProcStat } from './process-tree';

describe('localPostgresPorts', () => {
  it('gives each local server a store names once, with PostgreSQL\'s default port where none is written', () => {
    expect(
      localPostgresPorts([
        { dialect: 'postgres', url: 'postgres://evs@127.0.0.1:15432/evs', schema: 'read_model' },
        { dialect: 'postgres', url: 'postgres://evs@127.0.0.1:15432/evs', schema: 'inventory' },
        { dialect: 'postgres', url: 'postgresql://evs@localhost/evs', schema: 'audit' },
        { dialect: 'postgres', url: 'postgres://evs@/evs?host=/run/pg', schema: 'billing' },
        { dialect: 'sqlite', file: '/tmp/read-model.sqlite' },
      ]),
    ).toEqual([5432, 15432]);
  });

  it('leaves out a server on another machine: its CPU is not this machine\'s to read', () => {
    expect(localPostgresPorts([{ dialect: 'postgres', url: 'postgres://evs@10.0.0.5:5432/evs', schema: 's' }])).toEqual([]);
  });
});

describe('portArgument and dataDirArgument', () => {
  it('read the port and data folder the way postgres takes them', () => {
    const argv = ['/usr/lib/postgresql/15/bin/postgres', '-D', '/data/pg/data', '-p', '15432', '-k', '/data/pg', '-c', 'listen_addresses=127.0.0.1'];
    expect(portArgument(argv)).toBe(15432);
    expect(dataDirArgument(argv)).toBe('/data/pg/data');
    expect(portArgument(['postgres', '-p5433'])).toBe(5433);
    expect(portArgument(['postgres', '--port=5434'])).toBe(5434);
    expect(portArgument(['postgres', '-c', 'port=5435'])).toBe(5435);
    expect(dataDirArgument(['postgres', '--pgdata=/x'])).toBe('/x');
  });

  it('give null where the arguments do not say', () => {
    expect(portArgument(['postgres', '-D', '/x', '-c', 'max_connections=200'])).toBeNull();
    expect(dataDirArgument(['postgres'])).toBeNull();
  });
});

describe('postmasters', () => {
  it('are the postgres processes whose parent is not one', () => {
    const row = (pid: number, comm: string, ppid: number): [number, ProcStat] => [pid, { pid, comm, ppid, ownTicks: 0, reapedChildTicks: 0 }];
    const table = new Map([row(1, 'init', 0), row(10, 'postgres', 1), row(11, 'postgres', 10), row(20, 'bash', 1), row(21, 'postgres', 20), row(22, 'postgres', 21)]);
    expect(postmasters(table)).toEqual([10, 21]);
  });
});
