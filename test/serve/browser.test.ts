/**
 * The dashboard in a real browser: Debian's chromium driven by puppeteer-core (which downloads
 * nothing). A small search on the simulated task runs with --serve; the run page must show a new
 * generation without a reload; a candidate page must show its KaTeX formula and both curves; a
 * traversal attempt gets a 404; the finished run's lineage has a row per founder and links to their
 * pages; the finished run's report.html shows the same views from disk.
 * Screenshots go to the test's temp folder (printed as a diagnostic).
 *
 * Never skipped: without chromium the test fails and says how to install it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import YAML from 'yaml';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { ReportData } from '../../src/search/report.js';
import { tmpDir } from '../search/helpers.js';

const BIN = fileURLToPath(new URL('../../bin/cse-autoloss.js', import.meta.url));

function findChromium(): string {
  const env = process.env.CHROMIUM_PATH;
  if (env && existsSync(env)) return env;
  for (const name of ['chromium', 'chromium-browser']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  assert.fail("chromium is not installed: run scripts/setup.sh (it installs Debian's chromium), or set CHROMIUM_PATH");
}

test(
  'live dashboard in chromium: a new generation appears live, a candidate renders, traversal is a 404, the report works offline',
  { timeout: 120_000 },
  async (t) => {
    const chromium = findChromium();
    const dir = tmpDir('cse-browser-');
    const out = join(dir, 'run');
    const cfg = join(dir, 'search.yaml');
    writeFileSync(
      cfg,
      YAML.stringify({
        mode: 'reg',
        seed: 3,
        population: { size: 250, maxSize: 25, minDepth: 2, maxDepth: 5 },
        evolution: { generations: 12, parents: 5, elites: 2 },
        mos: { level1: { samples: 32, steps: 120 } },
        proxy: { topK: 4, task: { iters: 60 } },
        final: { top: 2, seeds: [0, 1], task: { iters: 80 } },
        pool: { workers: 0 },
      }),
    );
    // The browser first: the page opens as soon as the server is up, before the first generation.
    const browser: Browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
    });
    const page: Page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.setViewport({ width: 1200, height: 900 });
    const search = spawn(process.execPath, [BIN, 'search', '--config', cfg, '--out', out, '--workers', '0', '--serve', '0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, CSE_THREADS: '1' },
    });
    let stderr = '';
    const lines = createInterface({ input: search.stderr! });
    const finished = new Promise<void>((resolve) =>
      lines.on('line', (l) => (/search finished; the dashboard stays/.test(l) ? resolve() : undefined)),
    );
    const url = await new Promise<string>((resolve, reject) => {
      lines.on('line', (l) => {
        stderr += l + '\n';
        const m = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(l);
        if (m) resolve(m[1]!);
      });
      search.on('exit', (code) => reject(new Error(`search exited ${code} before serving:\n${stderr}`)));
    });
    try {
      // The run page, live: wait for a generation, mark the document, see the next one arrive.
      await page.goto(`${url}#/run/0`, { waitUntil: 'load' });
      await page.waitForFunction(() => Number(document.querySelector('[data-testid=generations]')?.textContent ?? 0) >= 1, {
        timeout: 30_000,
      });
      const before = await page.evaluate(() => {
        (window as unknown as { marker: number }).marker = 42;
        return Number(document.querySelector('[data-testid=generations]')!.textContent);
      });
      await page.waitForFunction(
        (n: number) => Number(document.querySelector('[data-testid=generations]')?.textContent ?? 0) > n,
        { timeout: 30_000 },
        before,
      );
      assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'the page updated without a reload');
      assert.equal(await page.$eval('#live', (e) => e.textContent), '● live');
      assert.ok((await page.$$('figure.chart canvas')).length >= 3, 'charts drawn');
      await page.screenshot({ path: join(dir, 'run-page.png'), fullPage: true });

      // A candidate: the best one in the hall of fame.
      await page.waitForSelector('table.fame a', { timeout: 30_000 });
      await page.click('table.fame a');
      await page.waitForSelector('main .tex.big .katex', { timeout: 10_000 });
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=curves] canvas').length === 2, { timeout: 10_000 });
      const official = await page.$eval('[data-testid=official]', (e) => e.textContent);
      assert.match(official ?? '', /^[A-Z][A-Za-z]*\(/);
      assert.ok((await page.$$('main .graph svg')).length === 1, 'computation graph');
      await page.screenshot({ path: join(dir, 'candidate-page.png'), fullPage: true });

      // Traversal attempts get a 404 (the browser would normalise /../, so percent-encoded forms).
      for (const p of ['runs/0/files/%2e%2e/%2e%2e/%2e%2e/etc/passwd', 'runs/0/files/..%2f..%2fsearch.yaml', 'assets/%2e%2e%2fserver.ts']) {
        const r = await page.goto(url + p);
        assert.equal(r?.status(), 404, p);
      }
      assert.deepEqual(errors, []);

      // The lineage of the finished run, live (the dashboard stays after the search): a row per founder of
      // report.json's lineage, and a founder's link opens its candidate page.
      await finished;
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as ReportData;
      assert.ok(report.lineage.founders.length > 0, 'the run has founders');
      await page.goto(`${url}#/run/0`, { waitUntil: 'load' });
      await page.waitForSelector('[data-testid=lineage] table.lineage .katex', { timeout: 10_000 });
      assert.equal(await page.$eval('[data-testid=lineage] h2', (e) => e.textContent), 'Lineage');
      assert.equal((await page.$$('table.lineage tr')).length - 1, report.lineage.founders.length, 'a row per founder');
      assert.match(
        (await page.$eval('[data-testid=lineage] p', (e) => e.textContent)) ?? '',
        new RegExp(`^The hall of fame's ${report.hallOfFame.length} losses descend from ${report.lineage.founders.length} founders?\\.`),
      );
      assert.equal(
        await page.$eval('[data-testid=lineage-gens]', (e) => e.textContent),
        "Founders behind each generation's new proxy evaluations (founders / evaluations): " +
          report.lineage.generations.map((g) => `gen ${g.gen + 1}: ${g.founders}/${g.proxied}`).join(' · '),
      );
      await (await page.$('[data-testid=lineage]'))!.screenshot({ path: join(dir, 'lineage.png') });
      const first = report.lineage.founders[0]!;
      await page.click('table.lineage a');
      await page.waitForSelector('main .tex.big .katex', { timeout: 10_000 });
      assert.equal(await page.$eval('main h1', (e) => e.firstChild?.textContent), `Candidate ${first.id}`);
      assert.equal(await page.$eval('[data-testid=official]', (e) => e.textContent), first.loss);
      assert.deepEqual(errors, []);

      // The finished run's report.html, from disk: the same views offline.
      const offline = await browser.newPage();
      const fetched: string[] = [];
      offline.on('request', (r) => (r.url().startsWith('file:') || r.url().startsWith('data:') ? undefined : fetched.push(r.url())));
      await offline.setViewport({ width: 1200, height: 900 });
      await offline.goto(`file://${join(out, 'report.html')}`, { waitUntil: 'load' });
      await offline.waitForSelector('table.fame .katex', { timeout: 10_000 });
      assert.ok((await offline.$$('figure.chart canvas')).length >= 3, 'report charts drawn');
      assert.ok((await offline.$$('[data-testid=funnel] .frow')).length >= 4, 'report funnel');
      // the proxy's measured fidelity (src/search/fidelity.ts): a simulated proxy is not measured
      assert.equal(
        await offline.$eval('[data-testid=proxy-fidelity]', (e) => e.textContent),
        'Proxy fidelity: not measured for this proxy (docs/PROXY.md lists the measured ones).',
      );
      // the lineage offline: the same rows; a founder is linked when the report holds its page, and the link opens it
      assert.equal((await offline.$$('table.lineage tr')).length - 1, report.lineage.founders.length, 'report: a row per founder');
      const linked = await offline.$$eval('table.lineage a', (as) => as.map((a) => a.textContent));
      if (linked.length) {
        await offline.click('table.lineage a');
        await offline.waitForSelector('main .tex.big .katex', { timeout: 10_000 });
        assert.equal(await offline.$eval('main h1', (e) => e.firstChild?.textContent), `Candidate ${linked[0]}`);
        await offline.goBack();
        await offline.waitForSelector('table.fame a', { timeout: 10_000 });
      }
      await offline.click('table.fame a');
      await offline.waitForFunction(
        () => document.querySelectorAll('[data-testid=curves] canvas').length === 2 && !!document.querySelector('main .tex.big .katex'),
        { timeout: 10_000 },
      );
      await offline.screenshot({ path: join(dir, 'report-candidate.png'), fullPage: true });
      assert.deepEqual(fetched, [], 'the report fetched nothing');
      t.diagnostic(`screenshots in ${dir}`);
    } catch (e) {
      await page.screenshot({ path: join(dir, 'failure.png'), fullPage: true }).catch(() => undefined);
      t.diagnostic(`failure screenshot in ${dir}; search stderr:\n${stderr}`);
      throw e;
    } finally {
      await browser.close();
      search.kill('SIGTERM');
      await new Promise((r) => (search.exitCode !== null || search.signalCode !== null ? r(null) : search.on('exit', r)));
    }
  },
);
