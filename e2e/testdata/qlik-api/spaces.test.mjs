// Drives spaces, API keys and users/me with Qlik's official client, as
// automations.test.mjs does for the automations API.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as automations from "@qlik/api/workflows/automations";
import * as spaces from "@qlik/api/spaces";
import * as apiKeys from "@qlik/api/api-keys";
import * as users from "@qlik/api/users";
import { as, rejects, withKey } from "./helpers.mjs";

test("a space, a member, an automation in it", async () => {
  await rejects(spaces.createSpace({ name: "nope", type: "shared" }, as("alice")), 403, "HTTP-403");
  const created = await spaces.createSpace({ name: "client team", description: "made by @qlik/api", type: "shared" }, as("lead"));
  assert.equal(created.status, 201);
  const sp = created.data;
  assert.equal(sp.ownerId, "lead");
  assert.equal(sp.type, "shared");
  assert.ok(sp.links.assignments.href.endsWith(`/api/v1/spaces/${sp.id}/assignments`));

  const listed = await spaces.getSpaces({ name: "CLIENT" }, as("lead"));
  assert.deepEqual(listed.data.data.map((s) => s.id), [sp.id]);
  assert.equal((await spaces.getSpaces({}, as("alice"))).data.data.length, 0, "not a member yet");
  await rejects(spaces.getSpace(sp.id, as("alice")), 404, "HTTP-404");

  const assigned = await spaces.createSpaceAssignment(sp.id, { type: "user", assigneeId: "alice", roles: ["producer"] }, as("lead"));
  assert.equal(assigned.status, 201);
  assert.deepEqual(assigned.data.roles, ["producer"]);
  const members = await spaces.getSpaceAssignments(sp.id, {}, as("lead"));
  assert.deepEqual(members.data.data.map((a) => a.assigneeId), ["alice"]);
  assert.equal((await spaces.getSpace(sp.id, as("alice"))).data.id, sp.id);

  const { data: a } = await automations.createAutomation({ name: "team automation", spaceId: sp.id }, as("alice"));
  assert.equal(a.spaceId, sp.id);
  await rejects(automations.getAutomation(a.id, as("bob")), 404, "HTTP-404");
  assert.equal((await automations.getAutomation(a.id, as("lead"))).data.spaceId, sp.id, "the space's owner sees it");

  await rejects(spaces.deleteSpace(sp.id, as("lead")), 409, "HTTP-409");
  await automations.deleteAutomation(a.id, as("alice"));
  const patched = await spaces.patchSpace(sp.id, [{ op: "replace", path: "/description", value: "renamed" }], as("lead"));
  assert.equal(patched.data.description, "renamed");
  assert.equal((await spaces.deleteSpace(sp.id, as("lead"))).status, 204);
});

test("users/me names the caller", async () => {
  const me = await users.getMyUser(as("alice"));
  assert.equal(me.data.id, "alice");
  assert.equal(me.data.tenantId, "default");
  assert.ok(me.data.assignedRoles.some((r) => r.name === "AutomationCreator"));
});

test("an API key: create, use, list, revoke", async () => {
  const created = await apiKeys.createApiKey({ description: "for CI", expiry: "P1D" }, as("alice"));
  assert.equal(created.status, 201);
  const key = created.data;
  assert.equal(key.sub, "alice");
  assert.equal(key.status, "active");
  assert.ok(key.token, "the secret is shown once");

  const { data: a } = await automations.createAutomation({ name: "made with a key" }, withKey(key.token));
  assert.equal(a.ownerId, "alice");
  assert.equal((await users.getMyUser(withKey(key.token))).data.id, "alice");

  const listed = await apiKeys.getApiKeys({}, as("alice"));
  const mine = listed.data.data.find((k) => k.id === key.id);
  assert.ok(mine, "listed");
  assert.equal(mine.token, undefined, "the secret is never shown again");
  assert.equal((await apiKeys.getApiKeys({}, as("bob"))).data.data.length, 0, "bob sees none of alice's keys");
  await rejects(apiKeys.getApiKey(key.id, as("bob")), 404, "HTTP-404");

  assert.equal((await apiKeys.deleteApiKey(key.id, as("alice"))).status, 204);
  await rejects(automations.getAutomation(a.id, withKey(key.token)), 401, "HTTP-401");
  assert.equal((await apiKeys.getApiKey(key.id, as("alice"))).data.status, "revoked");
});
