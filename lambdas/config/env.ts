import * as z from 'zod';

const envSchema = z.object({
  TABLE_NAME: z.string().min(3),
  /** Set only for DynamoDB Local; on AWS the SDK finds the regional endpoint. */
  DYNAMODB_ENDPOINT: z.url().optional(),
  AWS_REGION: z.string().default('us-east-1'),
  SERVICE_VERSION: z.string().default('0.1.0'),
});

export type Env = z.infer<typeof envSchema>;

let parsed: Env | undefined;

/** Parsed once per cold start; a missing variable fails start-up with its name. */
export function env(): Env {
  if (parsed) return parsed;
  const result = envSchema.safeParse(process.env);
  if (!result.success) {
    const names = result.error.issues.map((issue) => issue.path.join('.')).join(', ');
    throw new Error(`Invalid environment: ${names}`);
  }
  parsed = result.data;
  return parsed;
}
