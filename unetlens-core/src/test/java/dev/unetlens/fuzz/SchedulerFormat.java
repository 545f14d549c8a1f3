package dev.unetlens.fuzz;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.schedule.Scheduler;
import dev.unetlens.schedule.SchedulerConfig;
import dev.unetlens.schedule.SchedulerKind;
import dev.unetlens.schedule.StepOptions;
import dev.unetlens.schedule.StepOutput;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code scheduler_config.json}, first set to a random scheduler class, with one JSON edit; read for its own class
 * or another, its schedule computed for 1, 2, 10 and 50 steps and one step taken; one case in eight loads the whole
 * folder and generates.
 */
final class SchedulerFormat implements FuzzFormat {
    private static final List<String> KEYS = List.of("num_train_timesteps", "trained_betas", "steps_offset",
            "beta_start", "beta_end", "beta_schedule", "timestep_spacing", "prediction_type", "solver_order",
            "use_karras_sigmas", "sigma_min", "sigma_max", "interpolation_type", "timestep_type", "algorithm_type",
            "lambda_min_clipped", "final_sigmas_type", "rescale_betas_zero_snr", "clip_sample_range", "variance_type",
            "lower_order_final", "euler_at_final", "thresholding", "clip_sample", "set_alpha_to_one", "skip_prk_steps");

    private final MicroModel micro;

    SchedulerFormat(MicroModel micro) {
        this.micro = micro;
    }

    @Override
    public String name() {
        return "scheduler-config";
    }

    @Override
    public int weight() {
        return 10;
    }

    @Override
    public FuzzCase make(SplittableRandom rnd, Path dir) throws IOException {
        String relative = "scheduler/scheduler_config.json";
        String cls = Mutations.pick(rnd, List.of(SchedulerKind.values())).diffusersClass();
        String base = Files.readString(micro.file(relative)).replace("PNDMScheduler", cls);
        StringBuilder note = new StringBuilder(cls).append(": ");
        byte[] bytes = JsonMutations.mutate(base, rnd, KEYS, note);
        boolean whole = rnd.nextInt(8) == 0;
        Path config = micro.place(dir, relative, bytes, whole);
        Path model = dir.resolve("model");
        SchedulerKind kind = rnd.nextBoolean() ? null : Mutations.pick(rnd, List.of(SchedulerKind.values()));
        FuzzCase.Load load = whole ? () -> Checks.pipeline(model) : () -> schedule(config, kind);
        return new FuzzCase(note + (kind == null ? "" : " (read as " + kind + ")"), List.of(config), load);
    }

    private static void schedule(Path config, SchedulerKind kind) {
        SchedulerConfig c = SchedulerConfig.read(config, kind);
        Scheduler s = Scheduler.create(c, StepOptions.DEFAULT);
        try (NDManager m = NDManager.newBaseManager()) {
            for (int n : new int[] {1, 2, 10, 50}) {
                s.setTimesteps(n);
                if (s.timesteps().length < n) {
                    throw new AssertionError(n + " steps gave " + s.timesteps().length + " timesteps");
                }
            }
            NDArray x = m.randomNormal(new Shape(1, 4, 2, 2));
            StepOutput out = s.step(s.scaleModelInput(x, 0), 0, x, (manager, shape) -> manager.randomNormal(shape));
            Checks.floatTensor("scheduler step", out.prevSample(), 1, 4, 2, 2);
        }
    }

    static List<String> keys() {
        return new ArrayList<>(KEYS);
    }
}
