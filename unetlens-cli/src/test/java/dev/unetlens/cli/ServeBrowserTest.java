package dev.unetlens.cli;

import dev.unetlens.web.Auth;
import dev.unetlens.web.ServeConfig;
import dev.unetlens.web.WebServer;
import io.javalin.Javalin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The explorer in a real browser: Debian's chromium and chromedriver, headless, at 1280×800, over runs this test
 * makes with the bundled model's structure (a generation and an extract). Each page loads from a fresh server and
 * its main interaction works; screenshots of each page land in {@code target/screenshots/}.
 * {@code ./unetlens test} installs the two packages when they are missing; without them this test fails, naming
 * them.
 */
class ServeBrowserTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    static final Path SHOTS = Path.of("target/screenshots");
    private static final String TOKEN = Auth.newToken();
    private static final String SIMILARITY_MODULE = "up_blocks.1.attentions.0";
    private static final String CROSS_ATTENTION = "down_blocks.1.attentions.0.transformer_blocks.0.attn2:probs";
    private static final String UP_CROSS_ATTENTION = "up_blocks.1.attentions.0.transformer_blocks.0.attn2:probs";
    private static final String SELF_ATTENTION = "down_blocks.1.attentions.0.transformer_blocks.0.attn1:probs";

    @TempDir
    static Path tmp;
    static Javalin app;
    static ChromeDriver browser;
    static String origin;

    @BeforeAll
    static void start() throws Exception {
        assertThat(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER))
                .as("the browser tests need Debian's chromium and chromium-driver (apt-get install chromium"
                        + " chromium-driver; ./unetlens test installs them)").isTrue();
        Path model = TinyModel.write(tmp);
        Path runs = tmp.resolve("runs");
        CliRun gen = CliRun.of("generate", "--model", model.toString(), "--prompt", "a red fox", "--steps", "2",
                "--seed", "3", "--out", runs.resolve("fox").toString());
        assertThat(gen.code()).as(gen.err()).isZero();
        CliRun ext = CliRun.of("extract", "--model", model.toString(), "--prompt", "a red fox", "--steps", "3",
                "--seed", "3", "--at", "IN01, IN04, M00, OUT03, OUT08", "--out", runs.resolve("fox-features").toString());
        assertThat(ext.code()).as(ext.err()).isZero();
        CliRun att = CliRun.of("extract", "--model", model.toString(), "--prompt", "a red fox", "--steps", "2",
                "--seed", "3", "--at", String.join(", ", CROSS_ATTENTION, UP_CROSS_ATTENTION, SELF_ATTENTION),
                "--out", runs.resolve("fox-attention").toString());
        assertThat(att.code()).as(att.err()).isZero();
        Path image = runs.resolve("fox/image.png");
        CliRun reprs = CliRun.of("extract", "--model", model.toString(), "--images", image.toString(), image.toString(),
                "--at", SIMILARITY_MODULE, "--seed", "5", "--out", runs.resolve("fox-reprs").toString());
        assertThat(reprs.code()).as(reprs.err()).isZero();
        CliRun sim = CliRun.of("analyze", "similarity", "--model", model.toString(), "--images", image.toString(),
                "--at", SIMILARITY_MODULE, "--seed", "5", "--token", "3,5", "--measure", "cosine_centered",
                "--out", tmp.resolve("similarity").toString());
        assertThat(sim.code()).as(sim.err()).isZero();
        Files.createDirectories(runs.resolve("broken"));
        Files.writeString(runs.resolve("broken/manifest.json"), "{ not json");

        app = WebServer.create(new ServeConfig(runs, model, "127.0.0.1", 0, TOKEN), new ServeJobs()).start();
        origin = "http://127.0.0.1:" + app.port();
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile())
                .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                        "--window-size=1280,800", "--hide-scrollbars", "--force-device-scale-factor=1");
        browser = new ChromeDriver(service, options);
        browser.get(origin + "/static/style.css");                    // a page of the server, to measure the frame
        long extraW = (Long) js("return window.outerWidth - window.innerWidth;");
        long extraH = (Long) js("return window.outerHeight - window.innerHeight;");
        browser.manage().window().setSize(new org.openqa.selenium.Dimension(1280 + (int) extraW, 800 + (int) extraH));
        Files.createDirectories(SHOTS);
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (app != null) {
            app.stop();
        }
    }

    private static WebDriverWait waiting() {
        return new WebDriverWait(browser, Duration.ofSeconds(20));
    }

    private static void screenshot(String name) throws Exception {
        File f = browser.getScreenshotAs(OutputType.FILE);
        Files.copy(f.toPath(), SHOTS.resolve(name), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private static Object js(String script, Object... args) {
        return ((JavascriptExecutor) browser).executeScript(script, args);
    }

    @Test
    void runsPageListsEveryRunWithItsThumbnailAndBrokenOnesWithTheirProblem() throws Exception {
        browser.get(origin + "/?token=" + TOKEN);
        assertThat(browser.getCurrentUrl()).doesNotContain(TOKEN);
        waiting().until(d -> d.findElements(By.cssSelector("article.run")).size() >= 5);   // 6 after the job test
        int listed = browser.findElements(By.cssSelector("article.run")).size();
        WebElement fox = browser.findElement(By.cssSelector("article.run[data-run='fox']"));
        assertThat(fox.getText()).contains("a red fox").contains("generate").contains("complete").contains("seed\n3");
        waiting().until(d -> (Boolean) js("const i = document.querySelector(\"article[data-run='fox'] img.thumb\");"
                + " return i.complete && i.naturalWidth > 0;"));
        assertThat(browser.findElement(By.cssSelector("article.run[data-run='broken']")).getText())
                .contains("unreadable").contains("not valid JSON");
        screenshot("runs.png");

        browser.findElement(By.cssSelector("input[name=q]")).sendKeys("zebra");
        waiting().until(d -> d.findElements(By.cssSelector("article.run")).isEmpty());
        browser.findElement(By.cssSelector("input[name=q]")).clear();
        js("document.querySelector('input[name=q]').dispatchEvent(new Event('input', {bubbles: true}))");
        waiting().until(d -> d.findElements(By.cssSelector("article.run")).size() == listed);
    }

    @Test
    void featureExplorerFollowsTheBlockAndStepAndOpensAChannel() throws Exception {
        openFromRuns("fox-features", "features");
        String first = gridPixels("down_blocks.0.attentions.0", "1");

        browser.findElement(By.cssSelector("button.block[data-module='up_blocks.1.attentions.0']")).click();
        String other = gridPixels("up_blocks.1.attentions.0", "1");
        assertThat(other).isNotEqualTo(first);

        js("const s = document.getElementById('step'); s.value = 2; s.dispatchEvent(new Event('input'));");
        String step3 = gridPixels("up_blocks.1.attentions.0", "3");
        assertThat(step3).isNotEqualTo(other);

        WebElement grid = browser.findElement(By.id("grid"));
        @SuppressWarnings("unchecked")
        List<Number> at = (List<Number>) js("const g = document.getElementById('grid');"
                + " const L = JSON.parse(g.dataset.layout); const k = g.clientWidth / g.naturalWidth;"
                + " return [(L.origin[0] + L.pitch[0] + L.tile[0] / 2) * k, (L.origin[1] + L.tile[1] / 2) * k];");
        new Actions(browser).moveToElement(grid, (int) (at.get(0).doubleValue() - grid.getSize().width / 2.0),
                (int) (at.get(1).doubleValue() - grid.getSize().height / 2.0)).click().perform();
        waiting().until(d -> !d.findElements(By.cssSelector("#large:not([hidden]) img#channel")).isEmpty());
        assertThat(browser.findElement(By.cssSelector("#large h2")).getText()).startsWith("channel 1");
        new Actions(browser).moveToElement(browser.findElement(By.id("channel")), 10, 10).perform();
        waiting().until(d -> d.findElement(By.id("readout")).getText().matches("\\(\\d+, \\d+\\) = -?[0-9.e+-]+"));
        screenshot("features.png");

        js("const s = document.querySelector('select[name=transform]'); s.value = 'linear'; s.dispatchEvent(new Event('change'));");
        waiting().until(d -> !d.findElements(By.cssSelector("input[name=a]")).isEmpty());
        WebElement min = browser.findElement(By.cssSelector("input[name=a]"));
        min.sendKeys("x");
        js("arguments[0].dispatchEvent(new Event('change'))", min);
        waiting().until(d -> d.findElement(By.id("field-error")).getText().contains("transform"));
        assertThat(browser.findElement(By.cssSelector("label.bad")).getAttribute("data-field")).isEqualTo("transform");
    }

    @Test
    void attentionShowsAWordsHeatMapAndWhereAClickedPositionLooks() throws Exception {
        openFromRuns("fox-attention", "attention");
        waiting().until(d -> loaded("maps"));                           // the raw maps of the first block at once
        WebElement fox = browser.findElement(By.cssSelector("#tokens button[data-token='3']"));
        assertThat(fox.getText()).isEqualTo("fox");
        assertThat(browser.findElements(By.id("heat")).getFirst().getAttribute("src")).isNull();
        fox.click();
        waiting().until(d -> loaded("heat") && "3".equals(d.findElement(By.id("heat")).getAttribute("data-token")));
        @SuppressWarnings("unchecked")
        java.util.Map<String, Object> heat = (java.util.Map<String, Object>) ((JavascriptExecutor) browser).executeAsyncScript(
                "const done = arguments[arguments.length - 1];"
                + " import('/static/api.js').then(api => api.picture('/api/attention/heat.png', {run: 'fox-attention', token: 3})).then(p => done(p.fields));");
        assertThat(heat.get("modules")).asList().containsExactly(CROSS_ATTENTION.replace(":probs", ""),
                UP_CROSS_ATTENTION.replace(":probs", ""));
        assertThat(heat.get("steps")).asList().containsExactly(1L, 2L);

        WebElement image = browser.findElement(By.id("self-image"));
        int side = image.getSize().width;
        int cells = 16;                                   // down_blocks.1 of a 256 px image: 16×16 positions
        new Actions(browser).moveToElement(image, (int) ((10 + 0.5) * side / cells) - side / 2,
                (int) ((5 + 0.5) * side / cells) - side / 2).click().perform();
        waiting().until(d -> loaded("self-map") && "5,10".equals(d.findElement(By.id("self-map")).getAttribute("data-query")));
        screenshot("attention.png");

        js("const s = document.querySelector('#raw input[name=heads]'); s.value = '9'; s.dispatchEvent(new Event('change'));");
        waiting().until(d -> !d.findElements(By.cssSelector("#raw label.bad[data-field='heads']")).isEmpty());
    }

    /** Opens a run's view as a user would: the Runs page (after the token), then the view's link on the run's card. */
    private static void openFromRuns(String run, String view) {
        browser.get(origin + "/?token=" + TOKEN);
        browser.get(origin + "/#/runs");
        By link = By.cssSelector("article[data-run='" + run + "'] a.view[href*='" + view + "']");
        waiting().until(d -> !d.findElements(link).isEmpty());
        browser.findElement(link).click();
    }

    /** Whether the picture {@code id} has loaded. */
    private static boolean loaded(String id) {
        return (Boolean) js("const i = document.getElementById(arguments[0]);"
                + " return !!i && !!i.getAttribute('src') && i.complete && i.naturalWidth > 0;", id);
    }

    @Test
    void similarityExplorerShowsTheMapOfAClickedTokenAsAnalyzeSimilarityComputesIt() throws Exception {
        openFromRuns("fox-reprs", "similarity");
        waiting().until(d -> !d.findElements(By.id("sim-a")).isEmpty());
        js("const s = document.querySelector('select[name=measure]'); s.value = 'cosine_centered'; s.dispatchEvent(new Event('change'));");
        WebElement a = browser.findElement(By.id("sim-a"));
        waiting().until(d -> !a.getAttribute("data-shape").isEmpty());
        String[] hw = a.getAttribute("data-shape").split(",");
        double cellY = a.getSize().height / Double.parseDouble(hw[0]);
        double cellX = a.getSize().width / Double.parseDouble(hw[1]);
        new Actions(browser).moveToElement(a, (int) ((5.5 * cellX) - a.getSize().width / 2.0),
                (int) ((3.5 * cellY) - a.getSize().height / 2.0)).click().perform();
        waiting().until(d -> "3,5".equals(d.findElement(By.id("sim-a")).getAttribute("data-token")));
        assertThat(browser.findElement(By.id("sim-readout")).getText()).contains("token (3, 5)").contains("cosine_centered");
        screenshot("similarity.png");

        // the page's numbers are analyze similarity's, to float16 precision (the same image as A and B)
        @SuppressWarnings("unchecked")
        List<Number> shown = (List<Number>) ((JavascriptExecutor) browser).executeAsyncScript(
                "const done = arguments[arguments.length - 1];"
                + " import('/static/api.js').then(api => api.float16('/api/similarity', {run: 'fox-reprs', module: arguments[0],"
                + " a: 'image', b: 'image-2', measure: 'cosine_centered', token: '3,5'})).then(f => done(Array.from(f.values)));",
                SIMILARITY_MODULE);
        double[] expected = dev.unetlens.io.Npy.read(tmp.resolve("similarity/similarity_t50.npy")).toDoubles();
        assertThat(shown).hasSize(2 * expected.length);
        for (int i = 0; i < expected.length; i++) {
            assertThat(shown.get(expected.length + i).doubleValue()).as("token %d", i)
                    .isCloseTo(expected[i], org.assertj.core.data.Offset.offset(2e-3 + Math.abs(expected[i]) * 1e-3));
        }
    }

    @Test
    void labelsOfThreeClicksSurviveAReloadAndExportAsThePapersNpy() throws Exception {
        browser.get(origin + "/?token=" + TOKEN);
        browser.get(origin + "/#/labeler?run=fox-reprs");
        waiting().until(d -> !d.findElements(By.id("marks")).isEmpty());
        WebElement marks = browser.findElement(By.id("marks"));
        int side = marks.getSize().width;
        int cells = 8;                                      // up_blocks.1.attentions.0 of a 256 px image: 8×8 tokens
        int[][] clicks = {{1, 2}, {5, 0}, {3, 6}};           // (x, y) upper-left tokens
        for (int[] c : clicks) {
            new Actions(browser).moveToElement(marks, (int) ((c[0] + 0.5) * side / cells) - side / 2,
                    (int) ((c[1] + 0.5) * side / cells) - side / 2).click().perform();
        }
        waiting().until(d -> "3".equals(d.findElement(By.id("marks")).getAttribute("data-saved")));
        new Actions(browser).contextClick(marks).perform();                 // right click: the next image
        waiting().until(d -> "image-2".equals(d.findElement(By.id("marks")).getAttribute("data-image")));
        new Actions(browser).sendKeys(org.openqa.selenium.Keys.ARROW_LEFT).perform();
        waiting().until(d -> "image".equals(d.findElement(By.id("marks")).getAttribute("data-image")));

        browser.navigate().refresh();
        waiting().until(d -> !d.findElements(By.id("marks")).isEmpty()
                && "1,2 5,0 3,6".equals(d.findElement(By.id("marks")).getAttribute("data-marks")));
        assertThat(browser.findElement(By.cssSelector(".count[data-image='image']")).getText()).isEqualTo("3");

        @SuppressWarnings("unchecked")
        List<Number> npy = (List<Number>) ((JavascriptExecutor) browser).executeAsyncScript(
                "const done = arguments[arguments.length - 1];"
                + " fetch('/api/labels.npy?run=fox-reprs').then(r => r.arrayBuffer()).then(b => {"
                + " const v = new DataView(b); const n = v.getUint16(8, true); const out = [];"
                + " for (let i = 10 + n; i + 8 <= b.byteLength; i += 8) out.push(Number(v.getBigInt64(i, true)));"
                + " done(out); });");
        assertThat(npy).extracting(Number::longValue).containsExactly(0L, 1L, 2L, 0L, 5L, 0L, 0L, 3L, 6L);

        // the detector's candidates, pre-marked (a low k finds some on the bundled model's noise): a click accepts one
        WebElement k = browser.findElement(By.cssSelector("input[name=k]"));
        k.clear();
        k.sendKeys("1");
        js("arguments[0].dispatchEvent(new Event('change'))", k);
        waiting().until(d -> !d.findElement(By.id("marks")).getAttribute("data-candidates").isEmpty());
        @SuppressWarnings("unchecked")
        List<Number> c = (List<Number>) ((JavascriptExecutor) browser).executeAsyncScript(
                "const done = arguments[arguments.length - 1];"
                + " fetch('/api/labels/candidates?run=fox-reprs&module=up_blocks.1.attentions.0&image=image&k=1')"
                + ".then(r => r.json()).then(j => { const marked = [[1, 2], [5, 0], [3, 6]];"
                + " const free = j.candidates.find(c => !marked.some(([x, y]) => c.col >= x && c.col <= x + 1"
                + " && c.row >= y && c.row <= y + 1)); done(free ? [free.col, free.row, free.x, free.y] : []); });");
        assertThat(c).as("a candidate away from the three labels").hasSize(4);
        WebElement overlay = browser.findElement(By.id("marks"));           // the page was reloaded
        new Actions(browser).moveToElement(overlay, (int) ((c.get(0).intValue() + 0.5) * side / cells) - side / 2,
                (int) ((c.get(1).intValue() + 0.5) * side / cells) - side / 2).click().perform();
        String accepted = c.get(2) + "," + c.get(3);
        waiting().until(d -> "4".equals(d.findElement(By.id("marks")).getAttribute("data-saved")));
        assertThat(overlay.getAttribute("data-marks")).isEqualTo("1,2 5,0 3,6 " + accepted);
        assertThat(overlay.getAttribute("data-candidates").split(" ")).doesNotContain(accepted);
        screenshot("labeler.png");
    }

    @Test
    void aJobStartedFromTheFormShowsItsProgressAndLandsUnderRuns() throws Exception {
        browser.get(origin + "/?token=" + TOKEN);
        browser.get(origin + "/#/jobs");
        waiting().until(d -> !d.findElements(By.cssSelector("input[name='--steps']")).isEmpty());
        js("const s = document.getElementById('command'); s.value = 'generate'; s.dispatchEvent(new Event('change'));");
        waiting().until(d -> "true".equals(d.findElement(By.id("jobform")).getAttribute("data-ready"))
                && d.findElement(By.id("out")).getAttribute("value").startsWith("generate-"));
        WebElement steps = browser.findElement(By.cssSelector("input[name='--steps']"));
        steps.sendKeys("many");
        browser.findElement(By.id("start")).click();
        waiting().until(d -> !d.findElements(By.cssSelector("label.bad[data-field='--steps']")).isEmpty());
        assertThat(browser.findElement(By.id("job-error")).getText()).contains("--steps");

        steps.clear();
        steps.sendKeys("4");
        browser.findElement(By.cssSelector("input[name='--prompt']")).sendKeys("a blue bird");
        browser.findElement(By.cssSelector("input[name='--seed']")).sendKeys("11");
        WebElement out = browser.findElement(By.id("out"));
        out.clear();
        out.sendKeys("bird");
        browser.findElement(By.id("start")).click();
        waiting().until(d -> !d.findElements(By.cssSelector("article.job")).isEmpty());
        List<String> seen = new java.util.ArrayList<>();
        boolean[] shot = {false};
        new WebDriverWait(browser, Duration.ofSeconds(180)).until(d -> {
            WebElement job = d.findElement(By.cssSelector("article.job"));
            String done = job.getAttribute("data-done");
            if (!seen.contains(done)) {
                seen.add(done);
            }
            boolean midway = List.of("1", "2", "3").contains(done);   // the poll may miss a step of a fast run
            if ("running".equals(job.getAttribute("data-state")) && midway && !shot[0]) {
                shot[0] = true;
                try {
                    screenshot("jobs.png");
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }
            return "complete".equals(job.getAttribute("data-state")) || "failed".equals(job.getAttribute("data-state"));
        });
        assertThat(browser.findElement(By.cssSelector("article.job")).getAttribute("data-state"))
                .as(browser.findElement(By.cssSelector("article.job")).getText()).isEqualTo("complete");
        assertThat(seen).as("progress seen live, before the end").containsAnyOf("1", "2", "3");
        browser.findElement(By.cssSelector("article.job h3 a")).click();
        waiting().until(d -> !d.findElements(By.cssSelector("article.run[data-run='bird']")).isEmpty());
        assertThat(browser.findElement(By.cssSelector("article.run[data-run='bird']")).getText())
                .contains("a blue bird").contains("complete").contains("seed\n11");
    }

    /** Waits for the grid of module at step, loaded, and answers its pixels as a data URL. */
    private static String gridPixels(String module, String step) {
        waiting().until(d -> (Boolean) js("const g = document.getElementById('grid');"
                + " return !!g && g.dataset.module === arguments[0] && g.dataset.step === arguments[1]"
                + " && g.complete && g.naturalWidth > 0;", module, step));
        return (String) js("const g = document.getElementById('grid'); const c = document.createElement('canvas');"
                + " c.width = g.naturalWidth; c.height = g.naturalHeight; c.getContext('2d').drawImage(g, 0, 0);"
                + " return c.toDataURL();");
    }
}
