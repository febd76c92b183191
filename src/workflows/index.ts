export { sampleWorkflow } from './sample';
export { onboardingWorkflow } from './onboarding';
export { nurtureWorkflow } from './nurture';
export { complaintWorkflow } from './complaint';
export { winbackWorkflow } from './winback';
export { winbackSweepWorkflow } from './sweep';
