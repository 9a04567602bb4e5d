// Parse a Teams message (careclock's webhook body) with Microsoft's Adaptive
// Cards library and render every TextBlock's text with markdown-it, the
// markdown processor the library's documentation pairs it with.
//   node cardcheck.js FILE.json
// Prints one JSON line: {"events": [...parser warnings and errors...],
// "links": [...hrefs the markdown made...], "texts": N}.
const path = require("path");
const fs = require("fs");
const base = path.join(__dirname, "cards", "node_modules");
const AC = require(path.join(base, "adaptivecards", "dist", "adaptivecards.js"));
const md = require(path.join(base, "markdown-it"))();

const message = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const content = message.attachments[0].content;
const card = new AC.AdaptiveCard();
const ctx = new AC.SerializationContext();
card.parse(content, ctx);
const events = [];
for (let i = 0; i < ctx.eventCount; i++) {
  const e = ctx.getEventAt(i);
  events.push({ phase: e.phase, event: e.event, message: e.message });
}
const links = [];
let texts = 0;
function walk(node) {
  if (Array.isArray(node)) return node.forEach(walk);
  if (node === null || typeof node !== "object") return;
  for (const key of ["text", "title", "value"]) {
    if (typeof node[key] === "string" && (node.type === "TextBlock" || key !== "text")) {
      texts++;
      const html = md.render(node[key]);
      for (const m of html.matchAll(/<a href="([^"]*)"/g)) links.push(m[1]);
    }
  }
  for (const v of Object.values(node)) walk(v);
}
walk(content.body);
console.log(JSON.stringify({ events, links, texts }));
