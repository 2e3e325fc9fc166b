/**
 * Prints the search attributes the Temporal dev server must register, one
 * `Name=Type` per line, for infra/temporal.sh to pass as --search-attribute.
 * The names live only in libs/temporal.
 */
import { SEARCH_ATTRIBUTE_REGISTRATIONS } from '../../libs/temporal/src/transfer.definitions';

process.stdout.write(SEARCH_ATTRIBUTE_REGISTRATIONS.map((line) => `${line}\n`).join(''));
