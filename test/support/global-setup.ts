import { availableParallelism } from 'node:os';
import type { TestProject } from 'vitest/node';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../local/dynamodb-local.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoints: string[];
  }
}

let instances: DynamoDbLocal[] = [];

/**
 * One in-memory DynamoDB Local per test worker; each test file creates its own table in its
 * worker's instance. DynamoDB Local runs one transaction at a time per process, so two workers on
 * one instance queue behind each other's transactions (the heavy CDNOW imports most of all).
 */
export async function setup(project: TestProject) {
  const workers = Math.max(1, Number(project.config.maxWorkers) || availableParallelism());
  instances = await Promise.all(Array.from({ length: workers }, () => startDynamoDbLocal()));
  project.provide(
    'dynamoEndpoints',
    instances.map((instance) => instance.endpoint),
  );
}

export async function teardown() {
  await Promise.all(instances.map((instance) => instance.stop()));
}
