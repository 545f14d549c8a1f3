package dev.unetlens.schedule;

import ai.djl.ndarray.NDArray;
import dev.unetlens.UnetlensException;
import dev.unetlens.config.ConfigException;
import dev.unetlens.model.ForwardScope;

import java.util.ArrayList;
import java.util.List;

/** Bookkeeping shared by the schedulers: config, the timesteps, step-order checks and the history's arrays. */
abstract class AbstractScheduler implements Scheduler {
    protected final SchedulerConfig config;
    protected final StepOptions options;
    protected int numInferenceSteps;
    protected double[] timesteps;
    private int lastStep = -1;
    private final List<NDArray> held = new ArrayList<>();

    AbstractScheduler(SchedulerConfig config, StepOptions options) {
        this.config = config;
        this.options = options;
    }

    @Override
    public final SchedulerKind kind() {
        return config.kind();
    }

    @Override
    public final SchedulerConfig config() {
        return config;
    }

    @Override
    public final void setTimesteps(int n) {
        int max = config.noise().numTrainTimesteps();
        if (n < 1 || n > max) {
            throw new ConfigException("number of inference steps must be in [1, " + max + "] (num_train_timesteps of "
                    + config.source() + "), got " + n);
        }
        reset();
        numInferenceSteps = n;
        computeSchedule(n);
    }

    /** Fills {@link #timesteps} (and the subclass's σ tables) for {@code n} steps. */
    protected abstract void computeSchedule(int n);

    @Override
    public final int numInferenceSteps() {
        requireTimesteps();
        return numInferenceSteps;
    }

    @Override
    public final double[] timesteps() {
        requireTimesteps();
        return timesteps.clone();
    }

    @Override
    public void reset() {
        for (NDArray a : held) {
            a.close();
        }
        held.clear();
        lastStep = -1;
        clearHistory();
    }

    /** Drops the subclass's references to its history (the arrays are closed already). */
    protected void clearHistory() {
    }

    @Override
    public final Scheduler copy() {
        Scheduler s = kind().create(config, options);
        if (timesteps != null) {
            s.setTimesteps(numInferenceSteps);
        }
        return s;
    }

    protected final void requireTimesteps() {
        if (timesteps == null) {
            throw new UnetlensException(kind().diffusersClass() + ": call setTimesteps before using the scheduler");
        }
    }

    /** Validates {@code stepIndex} for a method that needs it (sample scaling, add_noise). */
    protected final void checkIndex(int stepIndex) {
        requireTimesteps();
        if (stepIndex < 0 || stepIndex >= timesteps.length) {
            throw new UnetlensException(kind().diffusersClass() + ": step index " + stepIndex + " outside [0, "
                    + timesteps.length + ")");
        }
    }

    /**
     * Validates the index of a {@code step} call; with {@code ordered}, it must follow the previous call's (a
     * multistep method's history refers to the previous steps).
     */
    protected final void beginStep(int stepIndex, boolean ordered) {
        checkIndex(stepIndex);
        if (ordered && lastStep >= 0 && stepIndex != lastStep + 1) {
            throw new UnetlensException(kind().diffusersClass() + ": step " + stepIndex + " after step " + lastStep
                    + "; a multistep scheduler must be stepped in order (reset() starts a new run)");
        }
        lastStep = stepIndex;
    }

    /** Keeps a private copy of {@code x} as history: detached from scopes, freed by {@link #reset()} or {@link #release}. */
    protected final NDArray hold(NDArray x) {
        NDArray copy = ForwardScope.detach(x.duplicate());
        held.add(copy);
        return copy;
    }

    /** Frees a history array that has dropped out of the window. */
    protected final void release(NDArray x) {
        if (x != null && held.removeIf(a -> a == x)) {   // identity: NDArray.equals compares contents
            x.close();
        }
    }
}
