// Drives Debian's Chromium through playwright-core like a person on a phone:
// opens a magic link from a mail, presses the confirm button, follows the
// redirect; types a code into the hosted page; says "I didn't ask for this"
// (job.report); screenshots pages (job.shots).  Reads one JSON job on stdin,
// prints one JSON result; screenshots go to job.artifacts.
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";

const job = JSON.parse(readFileSync(0, "utf8"));
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const result = { cspViolations: [] };
try {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 },
                                             isMobile: true, hasTouch: true,
                                             javaScriptEnabled: job.javascript !== false });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (/Content.Security.Policy/i.test(m.text())) result.cspViolations.push(m.text());
  });
  if (job.link) {
    await page.goto(job.link);
    result.linkTitle = await page.locator("h1").innerText();
    await page.screenshot({ path: `${job.artifacts}/link-confirm-360.png`, fullPage: true });
    const button = page.getByRole("button", { name: "Confirm my email address" });
    const box = await button.boundingBox();
    result.buttonFits = box !== null && box.x >= 0 && box.x + box.width <= 360;
    await Promise.all([page.waitForURL((u) => u.href.startsWith(job.redirectPrefix)),
                       button.click()]);
    result.linkLandedOn = page.url();
  }
  if (job.hosted) {
    await page.goto(job.hosted);
    const input = page.getByLabel("Verification code");
    result.autocomplete = await input.getAttribute("autocomplete");
    result.inputmode = await input.getAttribute("inputmode");
    await page.screenshot({ path: `${job.artifacts}/hosted-otp-360.png`, fullPage: true });
    if (job.wrongCode) {
      await input.fill(job.wrongCode);
      await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Verify" }).click()]);
      result.afterWrong = await page.locator("main").innerText();
    }
    await page.getByLabel("Verification code").fill(job.code);
    await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Verify" }).click()]);
    await page.waitForSelector("h1");
    result.hostedTitle = await page.locator("h1").innerText();
    await page.screenshot({ path: `${job.artifacts}/hosted-done-360.png`, fullPage: true });
  }
  if (job.report) {
    // "Didn't ask for this?": the page, then its button
    await page.goto(job.report);
    result.reportTitle = await page.locator("h1").innerText();
    await page.screenshot({ path: `${job.artifacts}/report-ask-360.png`, fullPage: true });
    await Promise.all([page.waitForLoadState("load"),
                       page.getByRole("button", { name: "I didn't ask for this" }).click()]);
    await page.waitForSelector("h1");
    result.reportedTitle = await page.locator("h1").innerText();
    await page.screenshot({ path: `${job.artifacts}/report-done-360.png`, fullPage: true });
  }
  // job.shots: [{url, name}], each page screenshotted and measured
  result.shots = [];
  for (const shot of job.shots || []) {
    await page.goto(shot.url);
    await page.screenshot({ path: `${job.artifacts}/${shot.name}`, fullPage: true });
    result.shots.push(await page.evaluate(() => {
      const code = document.querySelector("input#code");
      return {
        dir: getComputedStyle(document.documentElement).direction,
        lang: document.documentElement.lang,
        title: document.querySelector("h1").innerText,
        h1Right: Math.round(document.querySelector("h1").getBoundingClientRect().right),
        codeDir: code ? getComputedStyle(code).direction : null,
        scrollWidth: document.documentElement.scrollWidth,
      };
    }));
  }
  if (job.javascript !== false)
    result.scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
} catch (e) {
  result.error = String(e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
