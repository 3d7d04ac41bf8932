// The finance console: every figure comes from the report routes, called from this page with the
// key the reader pastes (held in a variable, never stored). A panel whose route refuses the key or
// is not deployed says "not available" and the others still draw.
const Chart = globalThis.Chart;
const $ = (selector, root = document) => root.querySelector(selector);
const charts = new Map();
let apiKey = '';

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

async function get(path) {
  const response = await fetch(path, { headers: { authorization: `Bearer ${apiKey}` } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, body.detail ?? response.statusText);
  return body;
}

const day = (date) => date.toISOString().slice(0, 10);
const integer = new Intl.NumberFormat('en');
const percent = new Intl.NumberFormat('en', { style: 'percent', maximumFractionDigits: 1 });
/** Display only: minor units shown in the currency's own decimals (no arithmetic on the result). */
function money(minor, currency) {
  const format = new Intl.NumberFormat('en', { style: 'currency', currency });
  return format.format(minor / 10 ** format.resolvedOptions().maximumFractionDigits);
}

/** The twelve months up to the chosen one: [{ month, from, to }], `to` never after today. */
function monthsUpTo(value) {
  const [year, month] = value.split('-').map(Number);
  const today = day(new Date());
  const months = [];
  for (let back = 11; back >= 0; back -= 1) {
    const first = new Date(Date.UTC(year, month - 1 - back, 1));
    const last = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0));
    if (day(first) > today) continue;
    months.push({
      month: day(first).slice(0, 7),
      from: day(first),
      to: day(last) < today ? day(last) : today,
    });
  }
  return months;
}

function draw(id, config, series) {
  charts.get(id)?.destroy();
  const canvas = document.getElementById(id);
  // What the chart shows, for the browser tests to compare with the API.
  canvas.dataset.series = JSON.stringify(series);
  charts.set(
    id,
    new Chart(canvas, { ...config, options: { animation: false, responsive: true, ...config.options } }),
  );
}

function table(section, head, rows) {
  const element = $('table.figures', section);
  element.replaceChildren();
  const header = element.createTHead().insertRow();
  for (const cell of head)
    header.appendChild(Object.assign(document.createElement('th'), { textContent: cell }));
  const body = element.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const cell of row) tr.insertCell().textContent = cell;
  }
}

function unavailable(section, error) {
  const why = error instanceof ApiError ? `${error.message} (${error.status})` : String(error);
  section.dataset.state = 'unavailable';
  for (const element of section.querySelectorAll('canvas, table, .cards')) element.hidden = true;
  let note = $('.unavailable', section);
  if (!note) {
    note = document.createElement('p');
    note.className = 'unavailable';
    section.appendChild(note);
  }
  note.textContent = `Not available: ${why}`;
}

function ready(section) {
  section.dataset.state = 'ready';
  $('.unavailable', section)?.remove();
  for (const element of section.querySelectorAll('canvas, table, .cards')) element.hidden = false;
}

async function panel(id, load) {
  const section = document.getElementById(id);
  try {
    await load(section);
    ready(section);
  } catch (error) {
    unavailable(section, error);
  }
}

async function liability(section, months) {
  const reports = await Promise.all(months.map(({ to }) => get(`/v1/reports/liability?asOf=${to}`)));
  const currency = reports.at(-1).currency;
  const labels = months.map(({ month }) => month);
  const series = {
    labels,
    outstandingPoints: reports.map((r) => r.outstandingPoints),
    liabilityMinor: reports.map((r) => r.liabilityMinor),
    expectedLiabilityMinor: reports.map((r) => r.expectedLiabilityMinor),
  };
  draw(
    'liability-chart',
    {
      type: 'line',
      data: {
        labels,
        datasets: [
          { label: 'Outstanding points', data: series.outstandingPoints, yAxisID: 'points' },
          { label: `Liability (${currency} minor)`, data: series.liabilityMinor, yAxisID: 'money' },
          { label: 'Expected, net of breakage', data: series.expectedLiabilityMinor, yAxisID: 'money' },
        ],
      },
      options: { scales: { points: { position: 'left' }, money: { position: 'right' } } },
    },
    series,
  );
  const latest = reports.at(-1);
  table(
    section,
    [`Partner (as of ${latest.asOf})`, 'Outstanding', 'Liability'],
    latest.byPartner.map((p) => [
      p.name,
      integer.format(p.outstandingPoints),
      money(p.liabilityMinor, currency),
    ]),
  );
}

const MOVEMENTS = ['issued', 'redeemed', 'refunded', 'expired', 'reversed', 'adjusted', 'forfeited'];

async function rollForward(section, months) {
  const report = await get(`/v1/reports/roll-forward?from=${months[0].from}&to=${months.at(-1).to}`);
  const labels = report.months.map((m) => m.month);
  const series = { labels, closing: report.months.map((m) => m.closing) };
  for (const name of MOVEMENTS) series[name] = report.months.map((m) => m[name]);
  draw(
    'roll-forward-chart',
    {
      type: 'bar',
      data: {
        labels,
        datasets: [
          { type: 'line', label: 'Closing', data: series.closing },
          ...MOVEMENTS.map((name) => ({ label: name, data: series[name], stack: 'movements' })),
        ],
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true } } },
    },
    series,
  );
  table(
    section,
    ['Month', 'Opening', ...MOVEMENTS, 'Closing'],
    report.months.map((m) =>
      [m.month, m.opening, ...MOVEMENTS.map((name) => m[name]), m.closing].map(String),
    ),
  );
}

async function settlement(section, months) {
  const from = months[0].from;
  const to = months.at(-1).to;
  const report = await get(`/v1/reports/settlement?from=${from}&to=${to}`);
  $('.period', section).textContent = `${from} – ${to}`;
  const labels = report.partners.map((p) => p.partnerId);
  const series = { labels, netMinor: report.partners.map((p) => p.netMinor) };
  draw(
    'settlement-chart',
    {
      type: 'bar',
      data: { labels, datasets: [{ label: `Net (${report.currency} minor)`, data: series.netMinor }] },
    },
    series,
  );
  table(
    section,
    ['Partner', 'Issued', 'Redeemed', 'Owed to coalition', 'Owed to partner', 'Net'],
    report.partners.map((p) => [
      p.name ?? p.partnerId,
      integer.format(p.issuedPoints),
      integer.format(p.redeemedPoints),
      money(p.owedToCoalitionMinor, report.currency),
      money(p.owedToPartnerMinor, report.currency),
      money(p.netMinor, report.currency),
    ]),
  );
}

const RISKS = ['low', 'medium', 'high'];

async function segments(section) {
  const report = await get('/v1/analytics/segments?by=churnRisk');
  if (report.asOf === null) throw new ApiError(404, 'no churn scan has run yet');
  const byRisk = Object.fromEntries(report.cells.map((cell) => [cell.churnRisk, cell]));
  const series = { labels: RISKS, members: RISKS.map((risk) => byRisk[risk]?.members ?? 0) };
  draw(
    'segments-chart',
    { type: 'doughnut', data: { labels: RISKS, datasets: [{ label: 'Members', data: series.members }] } },
    series,
  );
  table(
    section,
    [
      `Churn risk (scan of ${report.asOf.slice(0, 10)})`,
      'Members',
      'Average CLV (minor)',
      'Outstanding points',
    ],
    RISKS.map((risk) => [
      risk,
      integer.format(byRisk[risk]?.members ?? 0),
      integer.format(byRisk[risk]?.averageClvMinor ?? 0),
      integer.format(byRisk[risk]?.outstandingPoints ?? 0),
    ]),
  );
}

async function kpis(section, months) {
  const from = months[0].from;
  const to = months.at(-1).to;
  const report = await get(`/v1/reports/kpis?from=${from}&to=${to}`);
  $('.period', section).textContent = `${from} – ${to}`;
  const rate = (value) => (value === null ? '–' : percent.format(value));
  const cards = [
    ['Active members', integer.format(report.activeMembers)],
    ['New members', integer.format(report.newMembers)],
    ['Retention rate', rate(report.retentionRate)],
    ['Churn rate', rate(report.churnRate)],
    ['Repeat purchase rate', rate(report.repeatPurchaseRate)],
    ['Redemption rate', rate(report.redemptionRate)],
    ['NPS', report.nps === null ? '–' : integer.format(report.nps)],
    ['Mean CLV', report.averageClvMinor === null ? '–' : money(report.averageClvMinor, report.currency)],
    ['Active subscriptions', integer.format(report.subscriptions.active)],
    ['MRR', money(report.subscriptions.mrrMinor, report.currency)],
  ];
  const container = $('.cards', section);
  container.replaceChildren();
  for (const [label, value] of cards) {
    const card = Object.assign(document.createElement('div'), { className: 'card' });
    card.dataset.kpi = label;
    card.append(
      Object.assign(document.createElement('div'), { className: 'label', textContent: label }),
      Object.assign(document.createElement('div'), { className: 'value', textContent: value }),
    );
    container.appendChild(card);
  }
}

async function show(event) {
  event?.preventDefault();
  apiKey = $('#key').value.trim();
  const status = $('#status');
  status.className = '';
  status.textContent = 'Loading…';
  try {
    // One cheap call first, so a wrong key is one clear message rather than five.
    await get('/v1/program');
  } catch (error) {
    if (!(error instanceof ApiError) || error.status === 401) {
      status.className = 'error';
      status.textContent =
        error instanceof ApiError ? 'That key is not valid (401).' : `Failed: ${error.message}`;
      return;
    }
  }
  const months = monthsUpTo($('#month').value);
  $('#panels').hidden = false;
  await Promise.all([
    panel('kpis', (section) => kpis(section, months)),
    panel('liability', (section) => liability(section, months)),
    panel('roll-forward', (section) => rollForward(section, months)),
    panel('settlement', (section) => settlement(section, months)),
    panel('segments', (section) => segments(section)),
  ]);
  status.textContent = `Figures from ${months[0].from} to ${months.at(-1).to}, read at ${new Date().toISOString()}.`;
  document.body.dataset.loaded = 'true';
}

$('#month').value = day(new Date()).slice(0, 7);
$('#connect').addEventListener('submit', show);
