// Reads one JSON object per line on stdin: {secret, headers, body}.
// Prints "ok" or "fail: reason" per line, checked by the standardwebhooks
// package, an implementation independent of mailproof's own.
import { Webhook } from "standardwebhooks";
import { createInterface } from "node:readline";

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const { secret, headers, body } = JSON.parse(line);
  try {
    new Webhook(secret).verify(body, headers);
    console.log("ok");
  } catch (e) {
    console.log("fail: " + e.message);
  }
}
