export { HealthService, type ServingStatus, type SettableStatus } from './health-service.js';
