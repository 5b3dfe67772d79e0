// Drives a running automate server with Qlik's official client. The Go test
// e2e/qlikapi_test.go starts the server and passes its address and tokens in
// the environment; run it through `go test ./e2e/`.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as automations from "@qlik/api/workflows/automations";
import { as, rejects } from "./helpers.mjs";

const workspace = {
  blocks: [
    {
      id: "2252CA1C-FDAF-4634-B1B4-F43283AA074B",
      type: "StartBlock",
      name: "Start",
      inputs: [{ id: "run_mode", value: "triggered", type: "select" }],
    },
    {
      id: "9303A69B-E135-4911-A930-A50904EB9D3E",
      type: "EndpointBlock",
      name: "addMember",
      datasourcetype_guid: "61a87510-c7a3-11ea-95da-0fb0c241e75c",
      endpoint_guid: "272d9c70-6d31-11eb-870f-67624392ed86",
    },
  ],
  variables: [],
};

test("create, get, update", async () => {
  const created = await automations.createAutomation(
    { name: "client-made", description: "by @qlik/api", workspace, maxConcurrentRuns: 2 },
    as("alice"),
  );
  assert.equal(created.status, 201);
  const a = created.data;
  assert.equal(a.name, "client-made");
  assert.equal(a.runMode, "triggered");
  assert.equal(a.ownerId, "alice");
  assert.equal(a.state, "available");
  assert.equal(a.maxConcurrentRuns, 2);
  assert.deepEqual(a.connectorIds, ["61a87510-c7a3-11ea-95da-0fb0c241e75c"]);
  assert.deepEqual(a.endpointIds, ["272d9c70-6d31-11eb-870f-67624392ed86"]);
  assert.match(a.executionToken, /^[A-Za-z0-9]{64}$/);
  assert.match(a.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.deepEqual(a.workspace, workspace);

  const got = await automations.getAutomation(a.id, as("alice"));
  assert.equal(got.status, 200);
  assert.equal(got.data.id, a.id);
  assert.deepEqual(got.data.workspace, workspace);

  const updated = await automations.updateAutomation(a.id, { name: "client-renamed", maxConcurrentRuns: 3 }, as("alice"));
  assert.equal(updated.status, 200);
  assert.equal(updated.data.name, "client-renamed");
  assert.equal(updated.data.maxConcurrentRuns, 3);
  assert.equal(updated.data.description, "by @qlik/api");

  await rejects(automations.getAutomation(a.id, as("bob")), 404, "HTTP-404");
  await rejects(automations.createAutomation({ description: "no name" }, as("alice")), 400, "AUTOMATE-VALIDATION");
});

test("list with next() through several pages", async () => {
  const names = [];
  for (let i = 0; i < 25; i++) {
    const r = await automations.createAutomation({ name: `page-item-${String(i).padStart(2, "0")}` }, as("bob"));
    names.push(r.data.name);
  }
  let page = await automations.getAutomations({ limit: 10, sort: "+name", filter: 'name sw "page-item-"' }, as("bob"));
  const seen = [];
  let pages = 0;
  for (;;) {
    assert.equal(page.status, 200);
    pages++;
    seen.push(...page.data.data.map((a) => a.name));
    if (!page.next) break;
    page = await page.next(as("bob"));
  }
  assert.equal(pages, 3);
  assert.deepEqual(seen, names);
  // And back again.
  assert.ok(page.prev, "the last page has a prev link");
  const back = await page.prev(as("bob"));
  assert.deepEqual(
    back.data.data.map((a) => a.name),
    names.slice(10, 20),
  );
  await rejects(automations.getAutomations({ limit: 500 }, as("bob")), 400, "AUTOMATE-INVALID-PARAMETER");
  await rejects(automations.getAutomations({ listAll: true }, as("bob")), 403, "HTTP-403");
  const all = await automations.getAutomations({ listAll: true, limit: 200 }, as("admin"));
  assert.ok(all.data.data.length >= 25);
});

test("copy, enable, disable", async () => {
  const { data: a } = await automations.createAutomation({ name: "to-copy", workspace }, as("alice"));
  const copied = await automations.copyAutomation(a.id, { name: "the-copy" }, as("alice"));
  assert.equal(copied.status, 201);
  assert.ok(copied.data.id && copied.data.id !== a.id);
  const { data: c } = await automations.getAutomation(copied.data.id, as("alice"));
  assert.equal(c.name, "the-copy");
  assert.deepEqual(c.workspace, workspace);
  assert.notEqual(c.executionToken, a.executionToken);

  const disabled = await automations.disableAutomation(a.id, as("alice"));
  assert.equal(disabled.status, 204);
  assert.equal((await automations.getAutomation(a.id, as("alice"))).data.state, "disabled");
  const enabled = await automations.enableAutomation(a.id, as("alice"));
  assert.equal(enabled.status, 204);
  assert.equal((await automations.getAutomation(a.id, as("alice"))).data.state, "available");
});

test("change-owner, move, change-space", async () => {
  const { data: a } = await automations.createAutomation({ name: "to-give" }, as("alice"));
  await rejects(automations.changeOwnerAutomation(a.id, { userId: "bob" }, as("alice")), 403, "HTTP-403");
  const r = await automations.changeOwnerAutomation(a.id, { userId: "bob" }, as("admin"));
  assert.equal(r.status, 204);
  assert.equal((await automations.getAutomation(a.id, as("bob"))).data.ownerId, "bob");
  await rejects(automations.getAutomation(a.id, as("alice")), 404, "HTTP-404");

  const m = await automations.moveAutomation(a.id, { userId: "alice" }, as("admin"));
  assert.equal(m.status, 204);
  assert.equal((await automations.getAutomation(a.id, as("alice"))).data.ownerId, "alice");

  await rejects(automations.changeSpaceAutomation(a.id, { spaceId: "no-such-space" }, as("alice")), 400, "AUTOMATE-SPACE-NOT-FOUND");
});

test("settings get and put", async () => {
  const got = await automations.getAutomationsSettings(as("alice"));
  assert.equal(got.status, 200);
  assert.equal(got.data.maxConcurrentRunsPerAutomation, 10);
  await rejects(automations.updateAutomationsSettings({ maxConcurrentRunsPerAutomation: 20 }, as("alice")), 403, "HTTP-403");
  const put = await automations.updateAutomationsSettings({ maxConcurrentRunsPerAutomation: 20 }, as("admin"));
  assert.equal(put.status, 200);
  assert.equal(put.data.maxConcurrentRunsPerAutomation, 20);
  assert.equal((await automations.getAutomationsSettings(as("bob"))).data.maxConcurrentRunsPerAutomation, 20);
  const { data: busy } = await automations.createAutomation({ name: "busy", maxConcurrentRuns: 15 }, as("alice"));
  await rejects(automations.updateAutomationsSettings({ maxConcurrentRunsPerAutomation: 10 }, as("admin")), 409, "AUTOMATE-SETTINGS-CONFLICT");
  await automations.deleteAutomation(busy.id, as("alice"));
  const back = await automations.updateAutomationsSettings({ maxConcurrentRunsPerAutomation: 10 }, as("admin"));
  assert.equal(back.data.maxConcurrentRunsPerAutomation, 10);
});

test("delete", async () => {
  const { data: a } = await automations.createAutomation({ name: "to-delete" }, as("alice"));
  await rejects(automations.deleteAutomation(a.id, as("bob")), 404, "HTTP-404");
  const r = await automations.deleteAutomation(a.id, as("alice"));
  assert.equal(r.status, 204);
  await rejects(automations.getAutomation(a.id, as("alice")), 404, "HTTP-404");
});

// Runs -----------------------------------------------------------------

const show = (id, name, value, childId) => ({ id, type: "ShowBlock", name, inputs: [{ id: "input", value }], childId });
const start = (childId) => ({ id: "S", type: "StartBlock", name: "Start", inputs: [{ id: "run_mode", value: "manual" }], childId });
const echoWorkspace = { blocks: [start("O"), show("O", "out", "n={$.Start.n}")], variables: [] };
const sleepyWorkspace = {
  blocks: [start("Z"), { id: "Z", type: "SleepBlock", name: "nap", inputs: [{ id: "time", value: "30" }], childId: "O" }, show("O", "out", "woke")],
  variables: [],
};

// until polls a run until check(run) holds (the client has no push).
async function until(id, runId, check) {
  for (let i = 0; i < 400; i++) {
    const { data } = await automations.getAutomationRun(id, runId, as("alice"));
    if (check(data)) return data;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`run ${runId} never reached the expected state`);
}
const ended = (r) => ["finished", "finished with warnings", "failed", "stopped", "exceeded limit"].includes(r.status);

test("runs: create, list with next(), get, debug log, export, retry", async () => {
  const { data: a } = await automations.createAutomation({ name: "runner", workspace: echoWorkspace, maxConcurrentRuns: 3 }, as("alice"));
  const ids = [];
  for (let i = 0; i < 12; i++) {
    const res = await automations.createAutomationRun(a.id, { context: "api", inputs: { n: i } }, as("alice"));
    assert.equal(res.status, 201);
    assert.equal(res.data.context, "api_async");
    ids.push(res.data.id);
  }
  for (const id of ids) {
    const r = await until(a.id, id, ended);
    assert.equal(r.status, "finished");
    assert.equal(r.executedById, "alice");
  }
  const seen = new Set();
  let page = await automations.getAutomationRuns(a.id, { limit: 5, sort: "-startTime" }, as("alice"));
  let pages = 1;
  for (;;) {
    for (const r of page.data.data) {
      assert.ok(!seen.has(r.id), "no run twice");
      seen.add(r.id);
      assert.equal(typeof r.duration, "number");
    }
    if (!page.next) break;
    page = await page.next();
    pages++;
  }
  assert.equal(seen.size, 12);
  assert.equal(pages, 3);

  const debug = await automations.getAutomationRunDebug(a.id, ids[4], as("alice"));
  assert.equal(debug.status, 200);
  assert.match(String(debug.data), /n=4/);
  const exported = await automations.exportAutomationRun(a.id, ids[4], as("alice"));
  assert.ok(exported.data.url.endsWith(`/runs/${ids[4]}/debug`));

  const retried = await automations.retryAutomationRun(a.id, ids[7], as("alice"));
  assert.equal(retried.status, 204);
  const { data: list } = await automations.getAutomationRuns(a.id, { limit: 1, sort: "-id" }, as("alice"));
  const again = await until(a.id, list.data[0].id, ended);
  assert.notEqual(again.id, ids[7]);
  const againLog = await automations.getAutomationRunDebug(a.id, again.id, as("alice"));
  assert.match(String(againLog.data), /n=7/);

  await rejects(automations.createAutomationRun(a.id, { context: "editor" }, as("alice")), 400, "AUTOMATE-VALIDATION");
  await rejects(automations.getAutomationRun(a.id, ids[0], as("bob")), 404, "HTTP-404");
});

test("runs: stop a run in a 30 s sleep", async () => {
  const { data: a } = await automations.createAutomation({ name: "sleeper", workspace: sleepyWorkspace }, as("alice"));
  const { data: r } = await automations.createAutomationRun(a.id, { context: "api" }, as("alice"));
  await until(a.id, r.id, (x) => x.status === "running");
  const began = Date.now();
  const stopped = await automations.stopAutomationRun(a.id, r.id, as("alice"));
  assert.equal(stopped.status, 204);
  const after = await until(a.id, r.id, ended);
  assert.equal(after.status, "stopped");
  assert.ok(Date.now() - began < 1000, "stopped within a second");
});

test("usage metrics", async () => {
  const res = await automations.getAutomationsUsageMetrics(
    { filter: 'name eq "runs" and date ge "2000-01-01"', breakdownBy: "automation" },
    as("admin"),
  );
  assert.equal(res.status, 200);
  const runner = res.data.data.filter((u) => u.automation?.name === "runner");
  const total = runner.reduce((n, u) => n + u.value, 0);
  assert.equal(total, 13); // 12 runs and a retry
  await rejects(automations.getAutomationsUsageMetrics({ filter: 'name eq "runs"' }, as("alice")), 403, "HTTP-403");
  await rejects(automations.getAutomationsUsageMetrics({ filter: "" }, as("admin")), 400, "AUTOMATE-INVALID-PARAMETER");
});

test("schedules: create, read, change, remove", async () => {
  const created = await automations.createAutomation(
    {
      name: "client-scheduled",
      workspace,
      schedules: [{ recurrence: "RRULE:FREQ=DAILY;BYHOUR=9;BYMINUTE=0", startAt: "2026-01-01 00:00:00", timezone: "Europe/Stockholm" }],
    },
    as("alice"),
  );
  assert.equal(created.status, 201);
  assert.equal(created.data.runMode, "scheduled", "the schedule wins over the StartBlock's triggered");
  const [s] = created.data.schedules;
  assert.ok(s.id);
  assert.equal(s.recurrence, "RRULE:FREQ=DAILY;BYHOUR=9;BYMINUTE=0");
  assert.equal(s.timezone, "Europe/Stockholm");
  assert.equal(s.interval, -1);
  // 09:00 in Stockholm is 07:00 or 08:00 UTC, depending on the season.
  assert.match(s.nextRunAt, /^\d{4}-\d{2}-\d{2}T0[78]:00:00\.000000Z$/);
  assert.ok(new Date(s.nextRunAt) > new Date());

  const got = await automations.getAutomation(created.data.id, as("alice"));
  assert.deepEqual(got.data.schedules, created.data.schedules);

  // The deprecated interval, rounded to the minute.
  const changed = await automations.updateAutomation(
    created.data.id,
    { name: "client-scheduled", workspace, schedules: [{ interval: 100, timezone: "UTC" }] },
    as("alice"),
  );
  assert.equal(changed.data.schedules[0].interval, 120);
  assert.equal(changed.data.schedules[0].id, s.id, "a changed schedule keeps its id");

  const err = await rejects(
    automations.updateAutomation(created.data.id, { name: "x", schedules: [{ interval: 60 }, { interval: 120 }] }, as("alice")),
    400,
    "AUTOMATE-VALIDATION",
  );
  assert.match(err.data.errors[0].detail, /at most one schedule/);

  const removed = await automations.updateAutomation(created.data.id, { name: "client-scheduled", workspace, schedules: [] }, as("alice"));
  assert.deepEqual(removed.data.schedules, []);
  assert.equal(removed.data.runMode, "triggered");
});
