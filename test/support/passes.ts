/**
 * npm test runs the integration files twice, on SQLite stores and then on
 * PostgreSQL ones (infra/test.sh). A heavy file that adds nothing by running
 * twice runs in the second pass only, where its time balances against the
 * end-to-end files: infra/test.sh sets EVS_TEST_FIRST_PASS=1 in the first
 * when a second follows (not with an external stack), and such a file skips
 * itself there. Run alone, it always runs.
 */
export const SECOND_PASS_ONLY = process.env.EVS_TEST_FIRST_PASS === '1';
