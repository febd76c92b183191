import { sql } from 'kysely';
import { and, inPeriod, num, outcomeFilters, rate, rows, type Db } from './sql';
import type { PurchaseFigures, ReportQuery, RetentionFigures, TierValue, ValueFigures } from './types';

const YEAR_MS = 365.25 * 86_400_000;

interface TierRow {
  tier: string;
  customers: number;
  orders: number;
  revenue: number;
  repeaters: number;
  core: number;
  core_revenue: number;
}

/**
 * Purchases and customer value, from purchase events: `purchase` outcomes (nurture records each one, value = amount)
 * plus `won_back` outcomes with a value (win-back records its winning purchase only that way), in the period and
 * matching the filters. One query groups them per customer, ranks customers by spend and sums per current tier.
 *
 * - orders = purchase events; revenue = sum of their amounts;
 * - repeat purchase rate = customers with >= 2 purchase events / customers with >= 1;
 * - customer lifetime value per tier = average order value x purchases per customer per year x expected lifespan:
 *   average order value = revenue / orders; purchases per customer per year = orders / purchasing customers
 *   (`customers`), scaled from the period to a year; expected lifespan (years) = 1 / churn per year, churn per year =
 *   the tier's churn rate (lost / customers at start, retention.ts) scaled from the period to a year, null when
 *   nobody of the tier churned (no estimate);
 * - core customers = the top 20% of purchasing customers by spend (ceil(n / 5), ties broken by id) and their share
 *   of revenue.
 */
export async function purchaseAndValueFigures(
  db: Db,
  q: ReportQuery,
  retentionByTier: Map<string, RetentionFigures>,
): Promise<{ purchases: PurchaseFigures; value: ValueFigures }> {
  const where = and([sql`o.status in ('purchase', 'won_back')`, sql`o.value is not null`, inPeriod(q, 'o'), ...outcomeFilters(q, 'o')]);
  const tierRows = await rows(
    db,
    sql<TierRow>`
      with per_customer as (
        select o.customer_id, count(*) as orders, sum(o.value) as spend from outcomes o where ${where} group by o.customer_id
      ), ranked as (
        select p.customer_id, p.orders, p.spend, row_number() over (order by p.spend desc, p.customer_id) as spend_rank,
          count(*) over () as buyers
        from per_customer p
      )
      select coalesce(c.tier, 'unknown') as tier, count(*) as customers, sum(r.orders) as orders, sum(r.spend) as revenue,
        sum(case when r.orders >= 2 then 1 else 0 end) as repeaters,
        sum(case when 5 * r.spend_rank <= r.buyers + 4 then 1 else 0 end) as core,
        sum(case when 5 * r.spend_rank <= r.buyers + 4 then r.spend else 0 end) as core_revenue
      from ranked r left join customers c on c.id = r.customer_id
      group by coalesce(c.tier, 'unknown')`,
  );
  const tiers = tierRows.map((r) => ({
    tier: r.tier,
    customers: num(r.customers),
    orders: num(r.orders),
    revenue: num(r.revenue),
    repeaters: num(r.repeaters),
    core: num(r.core),
    coreRevenue: num(r.core_revenue),
  }));
  const sum = (pick: (t: (typeof tiers)[number]) => number) => tiers.reduce((acc, t) => acc + pick(t), 0);
  const buyers = sum((t) => t.customers);
  const repeaters = sum((t) => t.repeaters);
  const revenue = sum((t) => t.revenue);
  const purchases: PurchaseFigures = {
    orders: sum((t) => t.orders),
    revenue,
    customersWithPurchase: buyers,
    customersWithRepeatPurchase: repeaters,
    repeatPurchaseRate: rate(repeaters, buyers),
  };

  const periodYears = (q.to.getTime() - q.from.getTime()) / YEAR_MS;
  const byName = new Map(tiers.map((t) => [t.tier, t]));
  const names = [...new Set([...byName.keys(), ...retentionByTier.keys()])].sort();
  const byTier: TierValue[] = names.map((tier) => {
    const p = byName.get(tier);
    const churnRate = retentionByTier.get(tier)?.churnRate.rate ?? null;
    const averageOrderValue = p && p.orders > 0 ? p.revenue / p.orders : null;
    const purchasesPerCustomerPerYear = p && p.customers > 0 ? p.orders / p.customers / periodYears : null;
    const expectedLifespanYears = churnRate ? periodYears / churnRate : null;
    const clv =
      averageOrderValue === null || purchasesPerCustomerPerYear === null || expectedLifespanYears === null
        ? null
        : averageOrderValue * purchasesPerCustomerPerYear * expectedLifespanYears;
    return { tier, customers: p?.customers ?? 0, averageOrderValue, purchasesPerCustomerPerYear, expectedLifespanYears, clv };
  });
  const core = sum((t) => t.core);
  const coreRevenue = sum((t) => t.coreRevenue);
  return {
    purchases,
    value: { byTier, coreCustomers: { customers: core, revenue: coreRevenue, revenueShare: revenue === 0 ? null : coreRevenue / revenue } },
  };
}
