import * as cdk from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { type IndexDefinition, tableDefinition } from '../lambdas/store/table-definition.ts';

/** Properties of {@link LedgerTable}. */
export interface LedgerTableProps {
  /**
   * Turn on DynamoDB deletion protection and keep the table when the stack is deleted.
   * @default true
   */
  deletionProtection?: boolean;
}

/**
 * The single DynamoDB table, built from the shared `tableDefinition` so that keys, indexes, stream
 * and TTL match what the local runtime and the tests create.
 */
export class LedgerTable extends Construct {
  /** The table; its stream carries ledger inserts to the event publisher. */
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: LedgerTableProps = {}) {
    super(scope, id);
    const protect = props.deletionProtection ?? true;
    const key = (name: string): dynamodb.Attribute => ({ name, type: dynamodb.AttributeType.STRING });

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: key(tableDefinition.partitionKey),
      sortKey: key(tableDefinition.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: protect,
      removalPolicy: protect ? cdk.RemovalPolicy.RETAIN : cdk.RemovalPolicy.DESTROY,
      stream: dynamodb.StreamViewType[tableDefinition.stream],
      timeToLiveAttribute: tableDefinition.timeToLiveAttribute,
    });

    for (const index of tableDefinition.globalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: key(index.partitionKey),
        sortKey: key(index.sortKey),
        ...projectionOf(index),
      });
    }
  }
}

function projectionOf(
  index: IndexDefinition,
): Pick<dynamodb.GlobalSecondaryIndexProps, 'projectionType' | 'nonKeyAttributes'> {
  if (index.projection === 'ALL') return { projectionType: dynamodb.ProjectionType.ALL };
  if (index.projection === 'KEYS_ONLY') return { projectionType: dynamodb.ProjectionType.KEYS_ONLY };
  return { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: index.projection.include };
}
