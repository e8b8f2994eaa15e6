import type { FastifyInstance } from 'fastify';
import { readStatistics, summarise } from '../../kea/statistics.js';
import { keaTargets } from '../../kea/targets.js';
import type { RoutesOptions } from './context.js';

/**
 * GET /v1/kea/statistics: per ready Kea daemon, packets received and dropped, each
 * subnet's address use, and (kea-dhcp-ddns) the DNS updates that failed. The same
 * figures as /metrics, for status and the dashboard.
 */
export async function statisticsRoutes(app: FastifyInstance, { supervisor }: RoutesOptions): Promise<void> {
  app.get('/v1/kea/statistics', async () => ({
    daemons: await Promise.all(keaTargets(supervisor).map(async (t) => {
      try {
        return { service: t.service, ...summarise(await readStatistics(t.socket)) };
      } catch (error) {
        return { service: t.service, error: (error as Error).message };
      }
    })),
  }));
}
