package dev.unetlens.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.hook.BlockNames;
import dev.unetlens.hook.ModulePath;
import dev.unetlens.hook.PaperModules;
import dev.unetlens.hook.Selector;
import dev.unetlens.io.CacheDir;
import dev.unetlens.synth.BundledModel;
import dev.unetlens.io.FileHashes;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.pipeline.RunRecords;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.spark.BatchJob;
import dev.unetlens.spark.BatchRequest;
import dev.unetlens.spark.BatchSpark;
import dev.unetlens.spark.DatasetResults;
import dev.unetlens.spark.ImageInput;
import dev.unetlens.spark.Inputs;
import dev.unetlens.spark.ModelPool;
import dev.unetlens.spark.TableProbe;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code unetlens batch}: the paper's per-image reductions (norms, token-group sums, anomaly candidates and ratios,
 * channel means, pooled features) over a dataset on Apache Spark, into Parquet tables, then the dataset's results
 * from the tables. Lives in unetlens-spark (in the CLI's package, for its option classes); the CLI finds it through
 * {@link SubcommandProvider} when the launcher puts unetlens-spark on the class path.
 */
@Command(name = "batch", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Extract and reduce a dataset's maps on Apache Spark (embedded local mode by default; a cluster",
            "through spark-submit): Parquet tables per (image, module, timestep, sample) and the dataset's results.",
            "Example: unetlens batch --input photos/ --out runs/b1 --master local[2]"})
public final class BatchCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "PATH",
            description = "A diffusers folder or single-file checkpoint, at a path every executor reads (default: the bundled tiny model).")
    Path model;

    @Option(names = "--input", required = true, paramLabel = "PATH",
            description = "A folder of images, a text file of paths (one a line), or a Parquet/CSV table with a path column"
                    + " and optional prompt and label columns.")
    Path input;

    @Option(names = "--at", paramLabel = "NAMES", defaultValue = PaperModules.NAME,
            description = "Modules (default: ${DEFAULT-VALUE}, the paper's).")
    String at;

    @Option(names = "--timestep", paramLabel = "T", description = "Noise level t (default: 50).")
    Integer timestep;

    @Option(names = "--timesteps", paramLabel = "LIST", description = "Several noise levels: 0-500(+50) or 0,50,100.")
    String timesteps;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "1",
            description = "Noise draws per image and timestep, draw k from the image's seed + k (default: ${DEFAULT-VALUE});"
                    + " more than one adds a dispersion row per (image, module, timestep).")
    int samples;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42", description = "Base seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--seed-from", paramLabel = "path|base", defaultValue = "path",
            description = "Each image's noise seed: derived from the base seed and its path (default), or the base seed for"
                    + " every image (as analyze).")
    String seedFrom;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", defaultValue = "",
            description = "The text the U-Net reads where the input has no prompt column (default: empty).")
    String prompt;

    @Option(names = "--latent", paramLabel = "KIND", defaultValue = "sample", description = "VAE posterior mean or sample (default: ${DEFAULT-VALUE}).")
    String latent;

    @Option(names = "--unit-range", description = "Feed pixels in [0, 1] as sdhelper does (default: [-1, 1]).")
    boolean unitRange;

    @Option(names = "--resize", paramLabel = "PX", description = "Resize the shorter side to PX (then --crop to a square).")
    Integer resize;

    @Option(names = "--crop", description = "Centre-crop to a square (after --resize).")
    boolean crop;

    @Option(names = "--paper-prep", paramLabel = "MIN", description = "The paper's preparation: skip images whose shorter side"
            + " is under MIN px (an errors row), centre-crop a square, resize to --prep-size.")
    Integer paperPrep;

    @Option(names = "--prep-size", paramLabel = "PX", defaultValue = "512", description = "--paper-prep's side (default: ${DEFAULT-VALUE}).")
    int prepSize;

    @Option(names = "--reference", paramLabel = "MODULE", description = "Module the anomaly labels are detected at (default: up_blocks[1].upsamplers[0]).")
    String reference;

    @Option(names = "--k", paramLabel = "K", defaultValue = "6", description = "Detector threshold: median + K·1.4826·MAD (default: ${DEFAULT-VALUE}).")
    double k;

    @Option(names = "--spatial-mean", description = "Keep each map's spatial mean per channel (the pooled column).")
    boolean spatialMean;

    @Option(names = "--tensors", description = "Also write each image's full maps as float16 safetensors under tensors/"
            + " (a tensor [timesteps, draws, C, H, W] per module).")
    boolean tensors;

    @Option(names = "--probe", description = "Train the paper's positional probe per module on the driver from the tokens"
            + " table (every token of draw 0 at the first timestep; one module's tokens of every image must fit the driver).")
    boolean probe;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: spark-submit's, else local[*]:"
            + " the embedded engine). A JVM that already runs Spark (a notebook, a test) runs batch in its session.")
    String master;

    @Option(names = "--partitions", paramLabel = "N", description = "Partitions per chunk (default: Spark's default parallelism).")
    Integer partitions;

    @Option(names = "--threads-per-task", paramLabel = "N",
            description = "libtorch threads per task (default: local[N]: cores / N; a cluster: spark.task.cpus).")
    Integer threadsPerTask;

    @Option(names = "--chunk", paramLabel = "N", defaultValue = "256",
            description = "Images per commit: what a killed run loses at most (default: ${DEFAULT-VALUE}).")
    int chunk;

    @Option(names = "--max-errors", paramLabel = "N", defaultValue = "-1",
            description = "Stop when more than N images could not be used (default: never; each is a row of tables/errors).")
    int maxErrors;

    @Option(names = "--resume", description = "Continue an interrupted run in --out: committed images are skipped.")
    boolean resume;

    @ArgGroup(validate = false, heading = "%nOutput%n", exclusive = false)
    OutputOptions output = new OutputOptions();

    @Override
    public Integer call() {
        checkOptions();
        OutputDirectory out = openOutput();
        long t0 = System.nanoTime();
        BatchSpark.Session session = BatchSpark.open(master);
        SparkSession spark = session.spark();
        try {
            int threads = threadsPerTask != null ? threadsPerTask : BatchSpark.defaultThreads(spark);
            Path modelPath = (model == null ? BundledModel.ensure() : model).toAbsolutePath();
            BatchRequest r;
            ObjectNode modelJson;
            try (ModelPool.Lease lease = ModelPool.borrow(modelPath.toString(), null, StableDiffusion.Options.DEFAULT, threads)) {
                StableDiffusion sd = lease.model();
                String hash = ModelPool.hash(sd);
                refuseOtherModel(out, hash);
                List<String> modules = Selector.resolve(at, sd.unet().hooks(), BlockNames.of(sd.unet().config()));
                String ref = reference != null ? ModulePath.parse(reference).value()
                        : PaperModules.reference(sd.unet().hooks()).orElseThrow(() -> new UnetlensException(
                        "this U-Net has no up_blocks[1].upsamplers[0]; name the anomaly reference module with --reference"));
                if (!modules.contains(ref)) {
                    throw new UnetlensException("the anomaly reference module " + ref + " is not among the modules; add it to --at"
                            + " or choose --reference");
                }
                r = new BatchRequest(modelPath.toString(), hash, modules, timesteps(), samples, seed, seedFrom.equals("path"), prompt,
                        latent.toUpperCase(java.util.Locale.ROOT), unitRange, resize, crop, paperPrep, prepSize, ref, k,
                        spatialMean, tensors ? out.resolve("tensors").toString() : null, probe, threads);
                modelJson = RunRecords.model(sd, new FileHashes(CacheDir.root()));
            }
            List<ImageInput> inputs = Inputs.read(spark, input);
            ObjectNode m = out.manifest();
            m.set("request", r.toJson().put("input", input.toAbsolutePath().toString()).put("chunk", chunk)
                    .put("max_errors", maxErrors));
            m.set("model", modelJson.put("hash", r.modelHash()));
            m.set("versions", RunRecords.versions());
            out.begin();                              // a manifest marked incomplete before any table: a killed run resumes
            BatchJob.run(spark, r, inputs, out.resolve("tables"), new BatchJob.Settings(
                    partitions != null ? partitions : spark.sparkContext().defaultParallelism(), chunk, maxErrors));
            m.set("spark", BatchSpark.conf(spark));
            ObjectNode results = DatasetResults.of(spark, out.resolve("tables"), r.modules(), r.timesteps(), r.reference());
            if (r.probe()) {
                TableProbe.add(spark, out.resolve("tables"), r.timesteps().getFirst(), results);
            }
            Path tables = out.resolve("tables");
            results.put("tables", "tables/: features, anomalies, errors, done (Parquet, chunk=N partitions)");
            results.put("errors", BatchSpark.count(spark, tables.resolve("errors")));
            dev.unetlens.analysis.Outputs.writeResults(out, results);
            m.put("images_in_tables", results.path("images").asLong());
            m.putObject("seconds").put("total", (System.nanoTime() - t0) / 1e9);
            out.finish();
        } catch (Exception e) {   // Spark throws its (checked) SparkException unchecked
            throw BatchSpark.oneLine(e);
        } finally {
            session.close();
        }
        System.out.println("wrote " + out.dir());
        return 0;
    }

    private void checkOptions() {
        if (!seedFrom.equals("path") && !seedFrom.equals("base")) {
            throw new UnetlensException("--seed-from must be path or base, got '" + seedFrom + "'");
        }
        timesteps();
        if (samples < 1) {
            throw new UnetlensException("--samples must be at least 1, got " + samples);
        }
        if (chunk < 1) {
            throw new UnetlensException("--chunk must be at least 1, got " + chunk);
        }
        if (partitions != null && partitions < 1) {
            throw new UnetlensException("--partitions must be at least 1, got " + partitions);
        }
        if (threadsPerTask != null && threadsPerTask < 1) {
            throw new UnetlensException("--threads-per-task must be at least 1, got " + threadsPerTask);
        }
        if (!(k > 0) || !Double.isFinite(k)) {
            throw new UnetlensException("--k must be a positive number, got " + k);
        }
        if (!List.of("mean", "sample").contains(latent.toLowerCase(java.util.Locale.ROOT))) {
            throw new UnetlensException("--latent must be mean or sample, got '" + latent + "'");
        }
        if (model != null && !Files.exists(model)) {
            throw new UnetlensException(model + ": no such model; give a diffusers folder or a .safetensors or .ckpt checkpoint");
        }
        if (!Files.exists(input)) {
            throw new UnetlensException("--input " + input + ": no such file or folder; give a folder of images, a text file"
                    + " of paths, or a Parquet/CSV table with a path column");
        }
    }

    /** {@code --timesteps}, or {@code --timestep}, or 50. */
    private List<Integer> timesteps() {
        if (timesteps != null && timestep != null) {
            throw new UnetlensException("give --timestep T or --timesteps LIST, not both");
        }
        List<Integer> ts = timesteps != null ? dev.unetlens.analysis.TimestepList.parse(timesteps)
                : List.of(timestep != null ? timestep : 50);
        for (int t : ts) {
            if (t < 0 || t > 999) {
                throw new UnetlensException("--timestep must be in [0, 999], got " + t);
            }
        }
        return ts;
    }

    private OutputDirectory openOutput() {
        if (resume && output.force) {
            throw new UnetlensException("give --resume (continue the run in --out) or --force (start it over), not both");
        }
        OutputDirectory out = resume ? OutputDirectory.resume(output.out, "batch") : output.open("batch");
        if (!resume) {
            BatchSpark.deleteTree(out.resolve("tables"));                 // --force: the earlier run's tables go
            BatchSpark.deleteTree(out.resolve("tensors"));
        }
        return out;
    }

    /** A resumed run must use the model the tables were written with. */
    private void refuseOtherModel(OutputDirectory out, String hash) {
        if (!resume) {
            return;
        }
        String earlier = BatchSpark.earlierModelHash(out.dir());
        if (earlier != null && !earlier.equals(hash)) {
            throw new UnetlensException("the tables in " + out.dir() + " were written by model " + earlier + ", not by " + hash
                    + " (--model); resume with the same model or start a new --out");
        }
    }
}
