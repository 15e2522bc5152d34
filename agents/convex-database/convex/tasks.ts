// Reference implementation of the functions the Convex Task Agent calls (see ../README.md).
// Deploy with `npx convex deploy` from this directory's parent. Not executed by the test suite:
// tests/fixtures/fake_convex.py mirrors this behaviour over Convex's HTTP API.
import { ConvexError, v } from "convex/values";
import { mutation, query, QueryCtx } from "./_generated/server";
import { Doc } from "./_generated/dataModel";
import { taskStatus } from "./schema";

const listStatus = v.union(
  v.literal("open"), v.literal("todo"), v.literal("in_progress"), v.literal("done"), v.literal("all"),
);
const dueFilter = v.union(v.literal("overdue"), v.literal("today"), v.literal("this_week"));

function today(): string {
  return new Date().toISOString().slice(0, 10); // UTC
}

function addDays(date: string, days: number): string {
  const d = new Date(date + "T00:00:00Z");
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function checkDue(due: string | undefined) {
  if (due !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(due)) {
    throw new ConvexError({ code: "bad_input", field: "due", message: `due must be a date like 2025-06-30, got '${due}'` });
  }
}

// A task by its number ("17") or its document id.
async function findTask(ctx: QueryCtx, task: string): Promise<Doc<"tasks">> {
  let doc: Doc<"tasks"> | null = null;
  if (/^\d+$/.test(task)) {
    doc = await ctx.db.query("tasks").withIndex("by_number", (q) => q.eq("number", Number(task))).unique();
  } else {
    const id = ctx.db.normalizeId("tasks", task);
    doc = id ? await ctx.db.get(id) : null;
  }
  if (!doc) throw new ConvexError({ code: "not_found", field: "task_id", message: `no task ${task}` });
  return doc;
}

export const list = query({
  args: {
    status: v.optional(listStatus),
    assignee: v.optional(v.string()),
    due: v.optional(dueFilter),
    search: v.optional(v.string()),
    limit: v.optional(v.number()),
  },
  handler: async (ctx, args) => {
    const status = args.status ?? "open";
    const now = today();
    const weekEnd = addDays(now, 6);
    const words = (args.search ?? "").toLowerCase().split(/\s+/).filter(Boolean);
    const all = await ctx.db.query("tasks").collect(); // a team's to-do list: small
    const picked = all.filter((t) => {
      if (status === "open" && t.status === "done") return false;
      if (status !== "open" && status !== "all" && t.status !== status) return false;
      if (args.assignee && (t.assignee ?? "").toLowerCase() !== args.assignee.toLowerCase()) return false;
      if (args.due === "overdue" && !(t.due && t.due < now && t.status !== "done")) return false;
      if (args.due === "today" && t.due !== now) return false;
      if (args.due === "this_week" && !(t.due && t.due >= now && t.due <= weekEnd)) return false;
      return words.every((w) => t.title.toLowerCase().includes(w));
    });
    picked.sort((a, b) =>
      a.due === b.due ? a.number - b.number : a.due === null ? 1 : b.due === null ? -1 : a.due < b.due ? -1 : 1,
    );
    const limit = Math.min(args.limit ?? 50, 200);
    return { tasks: picked.slice(0, limit), total: picked.length, today: now };
  },
});

export const add = mutation({
  args: { title: v.string(), assignee: v.optional(v.string()), due: v.optional(v.string()) },
  handler: async (ctx, args) => {
    const title = args.title.trim();
    if (!title) throw new ConvexError({ code: "bad_input", field: "title", message: "a task needs a title" });
    checkDue(args.due);
    const last = await ctx.db.query("tasks").withIndex("by_number").order("desc").first();
    const id = await ctx.db.insert("tasks", {
      number: (last?.number ?? 0) + 1,
      title,
      assignee: args.assignee ?? null,
      status: "todo",
      due: args.due ?? null,
      completedAt: null,
    });
    return await ctx.db.get(id);
  },
});

export const update = mutation({
  args: {
    task: v.string(),
    title: v.optional(v.string()),
    assignee: v.optional(v.string()),
    status: v.optional(taskStatus),
    due: v.optional(v.string()),
  },
  handler: async (ctx, { task, ...changes }) => {
    const doc = await findTask(ctx, task);
    checkDue(changes.due);
    const patch: Partial<Doc<"tasks">> = { ...changes };
    if (changes.status !== undefined) patch.completedAt = changes.status === "done" ? Date.now() : null;
    await ctx.db.patch(doc._id, patch);
    return await ctx.db.get(doc._id);
  },
});

export const complete = mutation({
  args: { task: v.string() },
  handler: async (ctx, { task }) => {
    const doc = await findTask(ctx, task);
    const alreadyDone = doc.status === "done";
    if (!alreadyDone) await ctx.db.patch(doc._id, { status: "done", completedAt: Date.now() });
    return { task: await ctx.db.get(doc._id), alreadyDone };
  },
});

export const stats = query({
  args: {},
  handler: async (ctx) => {
    const now = today();
    const all = await ctx.db.query("tasks").collect();
    const open = all.filter((t) => t.status !== "done");
    const byAssignee: Record<string, number> = {};
    for (const t of open) byAssignee[t.assignee ?? "unassigned"] = (byAssignee[t.assignee ?? "unassigned"] ?? 0) + 1;
    return {
      total: all.length,
      byStatus: {
        todo: all.filter((t) => t.status === "todo").length,
        in_progress: all.filter((t) => t.status === "in_progress").length,
        done: all.length - open.length,
      },
      open: open.length,
      overdue: open.filter((t) => t.due !== null && t.due < now).length,
      dueToday: open.filter((t) => t.due === now).length,
      byAssignee,
    };
  },
});
