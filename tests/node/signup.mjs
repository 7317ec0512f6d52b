// Drives the PHP signup example (examples/php-signup) in Debian's Chromium,
// as a person would: types an address into the form, then the code from the
// mail.  Line protocol, since the code arrives by mail while the page waits:
// reads one JSON job line on stdin ({url, email, method, artifacts}), prints
// one JSON line when it reaches the code page, reads lines of codes to type
// (each answered by one JSON line with the page's title and alert), and ends
// at EOF.
import { chromium } from "playwright-core";
import { createInterface } from "node:readline";

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const say = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const job = JSON.parse((await lines.next()).value);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await (await browser.newContext()).newPage();
const state = async () => ({
  url: page.url(),
  title: await page.locator("h1").innerText(),
  alert: (await page.locator("[role=alert]").count())
    ? await page.locator("[role=alert]").innerText() : null,
  text: await page.locator("main").innerText(),
});
try {
  await page.goto(job.url);
  await page.getByLabel("Email address").fill(job.email);
  if (job.method === "MAGIC_LINK") await page.getByLabel("Send me a link").check();
  await Promise.all([page.waitForLoadState("load"),
                     page.getByRole("button", { name: "Sign up" }).click()]);
  await page.waitForSelector("h1");
  await page.screenshot({ path: `${job.artifacts}/signup-after-form.png`, fullPage: true });
  say(await state());
  for (let n = 1; ; n++) {
    const next = await lines.next();
    if (next.done) break;
    await page.getByLabel("Code").fill(next.value.trim());
    await Promise.all([page.waitForLoadState("load"),
                       page.getByRole("button", { name: "Verify" }).click()]);
    await page.waitForSelector("h1");
    await page.screenshot({ path: `${job.artifacts}/signup-code-${n}.png`, fullPage: true });
    say(await state());
  }
} catch (e) {
  say({ error: String(e) });
} finally {
  await browser.close();
}
