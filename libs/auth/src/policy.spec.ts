import { describe, expect, it } from 'vitest';
import { API_ACTIONS, type ApiAction } from '../../contracts/src/events';
import { authorize, CONSUMER_QUERY_ROLES, holdsOneOf, POLICY, policyRefusalMessage } from './policy';

const allowed = (roles: string[], action: ApiAction) => authorize(roles, action).allowed;

describe('the policy table', () => {
  it('has a row for every API action', () => {
    expect(Object.keys(POLICY).sort()).toEqual(Object.values(API_ACTIONS).sort());
  });

  it.each([
    // action, reader, member, admin
    [API_ACTIONS.list, true, true, true],
    [API_ACTIONS.get, true, true, true],
    [API_ACTIONS.create, false, true, true],
    [API_ACTIONS.accept, false, true, true],
    [API_ACTIONS.delete, false, true, true],
    [API_ACTIONS.listAllProjects, false, false, true],
    [API_ACTIONS.forceDelete, false, false, true],
  ] as const)('%s: reader %s, member %s, admin %s', (action, reader, member, admin) => {
    expect(allowed(['reader'], action)).toBe(reader);
    expect(allowed(['member'], action)).toBe(member);
    expect(allowed(['admin'], action)).toBe(admin);
  });
});

describe('authorize', () => {
  it('allows when any one of the roles held is in the action’s row', () => {
    expect(allowed(['auditor', 'reader'], API_ACTIONS.list)).toBe(true);
    expect(allowed(['reader', 'member'], API_ACTIONS.create)).toBe(true);
  });

  it('refuses credentials without roles, or with roles it does not know, naming the roles that would do', () => {
    expect(authorize([], API_ACTIONS.list)).toEqual({ allowed: false, allowedRoles: ['reader', 'member', 'admin'] });
    expect(authorize(['superuser', 'root'], API_ACTIONS.forceDelete)).toEqual({ allowed: false, allowedRoles: ['admin'] });
  });

  it('compares role names exactly', () => {
    expect(allowed(['Admin'], API_ACTIONS.forceDelete)).toBe(false);
    expect(allowed([' member'], API_ACTIONS.create)).toBe(false);
  });

  it('refuses an action the table does not know', () => {
    expect(allowed(['admin'], 'evs:transfers:anything' as ApiAction)).toBe(false);
  });

  it('words a refusal with the action and the roles that would allow it', () => {
    expect(policyRefusalMessage(API_ACTIONS.create, ['member', 'admin'])).toBe(
      'Policy forbids evs:transfers:create for these credentials: it needs one of the roles member, admin.',
    );
  });
});

describe('the consumers’ query APIs', () => {
  it('are for administrators only: reader and member hold a role in one project, and billing and audit answer about all', () => {
    expect(CONSUMER_QUERY_ROLES).toEqual(['admin']);
    expect(holdsOneOf(['member', 'admin'], CONSUMER_QUERY_ROLES)).toBe(true);
    for (const roles of [['reader'], ['member'], ['reader', 'member'], [], ['Admin'], ['auditor']]) {
      expect(holdsOneOf(roles, CONSUMER_QUERY_ROLES), roles.join(',')).toBe(false);
    }
  });
});
