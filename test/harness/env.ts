/** Environment variables through which the jest global setup hands its servers to the test workers. */
export const HARNESS_ENV = {
  devServerAddress: 'RETENTION_TEST_DEV_SERVER',
  workflowBundle: 'RETENTION_TEST_WORKFLOW_BUNDLE',
  testServerPath: 'RETENTION_TEST_TIME_SKIPPING_SERVER',
} as const;
