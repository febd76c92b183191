/** Environment variables through which the jest global setup hands its servers to the test workers. */
export const HARNESS_ENV = {
  devServerAddress: 'RETENTION_TEST_DEV_SERVER',
  workflowBundle: 'RETENTION_TEST_WORKFLOW_BUNDLE',
  testServerPath: 'RETENTION_TEST_TIME_SKIPPING_SERVER',
  postgresUrl: 'RETENTION_TEST_POSTGRES_URL',
  /** Why PostgreSQL could not be started: the store tests fail with it instead of being skipped. */
  postgresError: 'RETENTION_TEST_POSTGRES_ERROR',
} as const;
