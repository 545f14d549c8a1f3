package dev.unetlens.spark;

import dev.unetlens.pipeline.StableDiffusion;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** A task: borrows this JVM's model ({@link ModelPool}) and turns each image of its partition into rows. */
final class PartitionWork implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final BatchRequest request;

    PartitionWork(BatchRequest request) {
        this.request = request;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> images) {
        if (!images.hasNext()) {
            return java.util.Collections.emptyIterator();
        }
        List<Row> out = new ArrayList<>();
        try (ModelPool.Lease lease = ModelPool.borrow(request.model(), request.modelHash(), StableDiffusion.Options.DEFAULT,
                request.threadsPerTask())) {
            if (request.threadsPerTask() > 0) {
                // OpenMP's thread count belongs to the calling thread: a task thread set nothing inherits the engine's
                // default (every core), so local[N] ran N × cores threads; setting it here gives this task its share
                ai.djl.pytorch.jni.JniUtils.setNumThreads(request.threadsPerTask());
            }
            while (images.hasNext()) {
                out.addAll(ImageWork.rows(lease.model(), request, ImageInput.of(images.next())));
            }
        }
        return out.iterator();
    }
}
