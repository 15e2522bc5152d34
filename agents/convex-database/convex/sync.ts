// Reference implementation of sync:status (see ../README.md): the latest sync run, or "never".
import { query } from "./_generated/server";

export const status = query({
  args: {},
  handler: async (ctx) => {
    const run = await ctx.db.query("syncRuns").withIndex("by_startedAt").order("desc").first();
    if (!run) return { status: "never", source: null, startedAt: null, finishedAt: null, recordsSynced: 0, error: null };
    const { _id, _creationTime, ...fields } = run;
    return fields;
  },
});
