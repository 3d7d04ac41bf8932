import { Logger } from '@aws-lambda-powertools/logger';

/** One structured JSON logger per cold start (level from POWERTOOLS_LOG_LEVEL). */
export const logger = new Logger({ serviceName: 'loyalty-api' });
