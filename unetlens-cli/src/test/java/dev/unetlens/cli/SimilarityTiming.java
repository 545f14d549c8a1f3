package dev.unetlens.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.io.DType;
import dev.unetlens.io.Npy;
import dev.unetlens.io.NpyArray;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.web.Auth;
import dev.unetlens.web.ServeConfig;
import dev.unetlens.web.WebServer;
import io.javalin.Javalin;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;

/**
 * A one-off measurement for the README (not a test: run it by hand, see the README's serve section): is a token's
 * similarity map for a 64×64 map of 1280 channels (SD 1.5's up_blocks.1 at 512²) faster computed in the browser from
 * the float16 data or on the server? Writes an image dump of two such maps (float16, as {@code extract --dtype f16}
 * writes them), serves it, and in headless Chromium times (1) the server path: the similarity request per token,
 * the first one apart (it reads and caches the maps), and (2) the browser path: fetching both maps' float16 data,
 * decoding them, then the cosine map of a token over both images in plain JavaScript. Prints one JSON line.
 *
 * <pre>
 *   java -cp … dev.unetlens.cli.SimilarityTiming [TOKENS]
 * </pre>
 */
public final class SimilarityTiming {
    static final int C = 1280;
    static final int H = 64;
    static final int W = 64;
    static final String MODULE = "up_blocks.1.attentions.0";

    private SimilarityTiming() {
    }

    public static void main(String[] args) throws Exception {
        int tokens = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        Path tmp = Files.createTempDirectory("similarity-timing");
        Path runs = tmp.resolve("runs");
        dump(runs.resolve("pair"));
        String token = Auth.newToken();
        Javalin app = WebServer.create(new ServeConfig(runs, null, "127.0.0.1", 0, token)).start();
        ChromeDriver browser = new ChromeDriver(new ChromeDriverService.Builder()
                .usingDriverExecutable(new File("/usr/bin/chromedriver")).usingAnyFreePort().build(),
                new ChromeOptions().setBinary(new File("/usr/bin/chromium"))
                        .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"));
        try {
            String origin = "http://127.0.0.1:" + app.port();
            browser.get(origin + "/?token=" + token);
            browser.manage().timeouts().scriptTimeout(Duration.ofMinutes(5));
            Object result = ((JavascriptExecutor) browser).executeAsyncScript(script(), MODULE, tokens);
            System.out.println(result);
        } finally {
            browser.quit();
            app.stop();
        }
    }

    /** Two images' maps [1, C, H, W], float16 npy, random normal values (the timing does not depend on them). */
    private static void dump(Path dir) {
        OutputDirectory out = OutputDirectory.open(dir, "extract", false);
        out.manifest().put("mode", "images");
        out.manifest().putObject("request").putArray("images");
        long[] shape = {1, C, H, W};
        for (int i = 0; i < 2; i++) {
            String name = i == 0 ? "a" : "b";
            SplittableRandom r = new SplittableRandom(i);
            ByteBuffer b = ByteBuffer.allocate(2 * C * H * W).order(ByteOrder.LITTLE_ENDIAN);
            for (int k = 0; k < C * H * W; k++) {
                b.putShort(Float.floatToFloat16((float) (r.nextGaussian() + (k % 7) * 0.1)));
            }
            NpyArray a = new NpyArray(DType.F16, shape, b.flip());
            ObjectNode f = out.write(name + "/" + MODULE + ".npy", o -> o.write(Npy.toBytes(a)), "features");
            ObjectNode t = f.putArray("tensors").addObject();
            t.put("module", MODULE).put("image", name).put("image_index", i).put("timestep", 50.0).put("entry", MODULE);
            t.putArray("shape").add(1).add(C).add(H).add(W);
            out.saveManifest();
        }
        out.finish();
    }

    private static String script() {
        return """
            const done = arguments[arguments.length - 1];
            const module = arguments[0], n = arguments[1];
            const median = xs => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
            const pick = i => [(i * 17) % 64, (i * 29 + 5) % 64];
            (async () => {
              const api = await import('/static/api.js');
              const out = {};
              // 1. the server: one request per token (the first reads and caches both maps)
              const rt = [], cm = [];
              for (let i = 0; i <= n; i++) {
                const t0 = performance.now();
                const f = await api.float16('/api/similarity', {run: 'pair', module, a: 'a', b: 'b', measure: 'cosine', token: pick(i).join(',')});
                const ms = performance.now() - t0;
                if (i === 0) { out.server_first_ms = ms; out.server_first_compute_ms = f.header.compute_ms; continue; }
                rt.push(ms); cm.push(f.header.compute_ms);
              }
              out.server_round_trip_ms_median = median(rt);
              out.server_compute_ms_median = median(cm);
              // 2. the browser: both maps' float16 data, decoded, then the cosine map per token
              const half = h => { const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
                return e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15); };
              const load = async name => {
                const t0 = performance.now();
                const buf = await (await fetch('/api/file?' + new URLSearchParams({run: 'pair', path: name + '/' + module + '.npy'}))).arrayBuffer();
                const t1 = performance.now();
                const v = new DataView(buf); const hl = v.getUint16(8, true);
                const halves = new Uint16Array(buf, 10 + hl);
                const x = new Float32Array(halves.length);
                for (let i = 0; i < halves.length; i++) x[i] = half(halves[i]);
                return { x, bytes: buf.byteLength, fetch: t1 - t0, decode: performance.now() - t1 };
              };
              const t0 = performance.now();
              const A = await load('a'), B = await load('b');
              out.browser_bytes = A.bytes + B.bytes;
              out.browser_fetch_ms = A.fetch + B.fetch;
              out.browser_decode_ms = A.decode + B.decode;
              const C = 1280, P = 4096;
              const norms = x => { const n = new Float32Array(P); for (let c = 0; c < C; c++) { const o = c * P;
                for (let p = 0; p < P; p++) n[p] += x[o + p] * x[o + p]; } for (let p = 0; p < P; p++) n[p] = Math.sqrt(n[p]); return n; };
              const t2 = performance.now();
              const nA = norms(A.x), nB = norms(B.x);
              out.browser_norms_ms = performance.now() - t2;
              out.browser_ready_ms = performance.now() - t0;
              const cos = (q, x, nx, nq) => { const d = new Float32Array(P);
                for (let c = 0; c < C; c++) { const qc = A.x[c * P + q], o = c * P; for (let p = 0; p < P; p++) d[p] += qc * x[o + p]; }
                for (let p = 0; p < P; p++) d[p] /= nq * nx[p] + 1e-12; return d; };
              const ms = [];
              for (let i = 1; i <= n; i++) {
                const [r, c] = pick(i); const q = r * 64 + c;
                const t = performance.now();
                cos(q, A.x, nA, nA[q]); cos(q, B.x, nB, nA[q]);
                ms.push(performance.now() - t);
              }
              out.browser_compute_ms_median = median(ms);
              out.tokens = n;
              done(JSON.stringify(out));
            })().catch(e => done('error: ' + e.message));
            """;
    }
}
