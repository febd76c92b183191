export { sampleWorkflow } from './sample';
