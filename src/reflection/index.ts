export { ReflectionService } from './reflection-service.js';
