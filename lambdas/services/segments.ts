/**
 * Picking a campaign's audience [admin]:
 * - GET /v1/analytics/segments: members, mean CLV and available points per churn band × tier, from
 *   the sums the latest complete churn scan kept at its checkpoints (no member is read);
 * - GET /v1/analytics/members: the scored members of one band, highest CLV first, paged from the
 *   at-risk index (gsi11, 16 shards per band merged by CLV), never a scan.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../domain/errors.ts';
import type { AtRiskMembersQuery, AtRiskMemberView, SegmentsQuery } from '../schemas/analytics.ts';
import { latestRun } from '../store/job-store.ts';
import { CHURN_INDEX_SHARDS, clvSortKey, keys } from '../store/keys.ts';
import { SEGMENT_PREFIX } from './churn-scan.ts';
import { type RequestContext, respond, type UseCaseResponse } from './context.ts';

const BANDS = ['high', 'medium', 'low'] as const;

export async function segments(ctx: RequestContext, query: SegmentsQuery): Promise<UseCaseResponse> {
  const run = await latestRun(ctx.store, 'churn-scan');
  const cells = new Map<
    string,
    { churnRisk?: string; tier?: string; members: number; clv: number; points: number }
  >();
  for (const [name, value] of Object.entries(run?.sums ?? {})) {
    if (!name.startsWith(SEGMENT_PREFIX)) continue;
    const [risk = '', tier = '', figure = ''] = name.slice(SEGMENT_PREFIX.length).split('|');
    const key = JSON.stringify(query.by.map((dimension) => (dimension === 'churnRisk' ? risk : tier)));
    const cell = cells.get(key) ?? {
      ...(query.by.includes('churnRisk') ? { churnRisk: risk } : {}),
      ...(query.by.includes('tier') ? { tier } : {}),
      members: 0,
      clv: 0,
      points: 0,
    };
    if (figure === 'members') cell.members += value;
    else if (figure === 'clv') cell.clv += value;
    else if (figure === 'points') cell.points += value;
    cells.set(key, cell);
  }
  const bandRank = (risk: string | undefined) => (risk === undefined ? 0 : BANDS.indexOf(risk as never));
  const ordered = [...cells.values()].sort(
    (a, b) => bandRank(a.churnRisk) - bandRank(b.churnRisk) || (a.tier ?? '').localeCompare(b.tier ?? ''),
  );
  return respond(200, {
    asOf: run?.day ?? null,
    by: query.by,
    cells: ordered.map(({ churnRisk, tier, members, clv, points }) => ({
      ...(churnRisk !== undefined ? { churnRisk } : {}),
      ...(tier !== undefined ? { tier } : {}),
      members,
      averageClvMinor: members > 0 ? Math.floor(clv / members) : 0,
      outstandingPoints: points,
    })),
  });
}

/** Where each shard's page stands: its last sort key handed out (absent: from the top). */
type ShardCursor = { risk: string; min: number; after: Record<string, string> };

function decodeShardCursor(cursor: string | undefined, query: AtRiskMembersQuery): Record<string, string> {
  if (cursor === undefined) return {};
  const invalid = () =>
    new ValidationError([{ path: 'query.cursor', message: 'is not a cursor this list returned' }]);
  let decoded: ShardCursor;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as ShardCursor;
  } catch {
    throw invalid();
  }
  // A cursor belongs to one band and bound; each position is a sort key of that index.
  if (
    typeof decoded !== 'object' ||
    decoded === null ||
    decoded.risk !== query.churnRisk ||
    decoded.min !== (query.minClvMinor ?? 0) ||
    typeof decoded.after !== 'object' ||
    decoded.after === null
  )
    throw invalid();
  for (const [shard, sortKey] of Object.entries(decoded.after)) {
    if (!/^[0-9]{1,2}$/.test(shard) || Number(shard) >= CHURN_INDEX_SHARDS) throw invalid();
    if (typeof sortKey !== 'string' || !/^[0-9]{16}#mem_[0-9A-Z]{26}$/.test(sortKey)) throw invalid();
  }
  return decoded.after;
}

export async function atRiskMembers(
  ctx: RequestContext,
  query: AtRiskMembersQuery,
): Promise<UseCaseResponse> {
  const after = decodeShardCursor(query.cursor, query);
  const min = clvSortKey(query.minClvMinor ?? 0);
  // Each shard's next `limit` members by CLV, then the page is the top `limit` of their merge.
  const pages = await Promise.all(
    Array.from({ length: CHURN_INDEX_SHARDS }, async (_, shard) => {
      const from = after[String(shard)];
      const result = await ctx.store.db.send(
        new QueryCommand({
          TableName: ctx.store.tableName,
          IndexName: 'gsi11',
          KeyConditionExpression: from
            ? 'gsi11pk = :pk AND gsi11sk BETWEEN :min AND :before'
            : 'gsi11pk = :pk AND gsi11sk >= :min',
          ExpressionAttributeValues: {
            ':pk': keys.churnIndexPartition(query.churnRisk, shard),
            ':min': min,
            // Strictly below the last handed out: the same key minus its last character's successor.
            ...(from ? { ':before': beforeKey(from) } : {}),
          },
          ScanIndexForward: false,
          Limit: query.limit + 1,
        }),
      );
      return (result.Items ?? []).map((item) => ({ shard, item }));
    }),
  );
  const merged = pages.flat().sort((a, b) => String(b.item.gsi11sk).localeCompare(String(a.item.gsi11sk)));
  const page = merged.slice(0, query.limit);
  const nextAfter = { ...after };
  for (const { shard, item } of page) nextAfter[String(shard)] = String(item.gsi11sk);
  const items: AtRiskMemberView[] = page.map(({ item }) => {
    const churn = item.churn as Record<string, unknown>;
    return {
      memberId: String(item.id),
      churnRisk: query.churnRisk,
      pAlive: Number(churn.pAlive),
      clvMinor: Number(churn.clvMinor),
      expectedPurchases90d: Number(churn.expectedPurchases90d),
      scoredAt: String(churn.scoredAt),
    };
  });
  const more = merged.length > query.limit;
  const cursor: ShardCursor = { risk: query.churnRisk, min: query.minClvMinor ?? 0, after: nextAfter };
  return respond(200, {
    items,
    nextCursor: more ? Buffer.from(JSON.stringify(cursor)).toString('base64url') : null,
  });
}

/** The greatest string below `key` that any real sort key can be (BETWEEN is inclusive). */
function beforeKey(key: string): string {
  const last = key.charCodeAt(key.length - 1);
  return `${key.slice(0, -1)}${String.fromCharCode(last - 1)}~`;
}
