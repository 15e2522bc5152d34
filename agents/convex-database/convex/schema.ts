// Reference Convex schema for the FibreFlow Convex Task Agent (see ../README.md).
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export const taskStatus = v.union(v.literal("todo"), v.literal("in_progress"), v.literal("done"));

export default defineSchema({
  tasks: defineTable({
    number: v.number(), // the short, human number people use: "task 17"
    title: v.string(),
    assignee: v.union(v.string(), v.null()),
    status: taskStatus,
    due: v.union(v.string(), v.null()), // YYYY-MM-DD
    completedAt: v.union(v.number(), v.null()), // ms since the epoch
  })
    .index("by_number", ["number"])
    .index("by_status", ["status"]),

  // One row per sync run from Neon (written by the sync job, read by sync:status).
  syncRuns: defineTable({
    status: v.union(v.literal("running"), v.literal("success"), v.literal("failed")),
    source: v.string(),
    startedAt: v.number(),
    finishedAt: v.union(v.number(), v.null()),
    recordsSynced: v.number(),
    error: v.union(v.string(), v.null()),
  }).index("by_startedAt", ["startedAt"]),
});
