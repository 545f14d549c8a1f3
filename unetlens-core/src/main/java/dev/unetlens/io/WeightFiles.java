package dev.unetlens.io;

import dev.unetlens.Messages;
import dev.unetlens.io.SafetensorsException.Rule;
import dev.unetlens.io.pickle.TorchCheckpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Opens a weight file by what its bytes are, never by its name: a safetensors file ({@link SafetensorsFile}), or a
 * PyTorch checkpoint (zip or legacy {@code torch.save}: {@code .ckpt}, {@code .pt}, {@code .pth}, {@code .bin}) read
 * by the restricted pickle reader ({@link TorchCheckpoint}), which runs no code. Anything else is refused as
 * safetensors would refuse it. Only regular files are opened.
 */
public final class WeightFiles {
    private WeightFiles() {
    }

    /** The tensors of {@code path}; fails in one line naming the file. */
    public static TensorSource open(Path path) {
        return format(path).isPickle() ? TorchCheckpoint.open(path) : SafetensorsFile.open(path);
    }

    /** What {@code path} holds, told from its first bytes ({@link CheckpointFormat#of}). */
    public static CheckpointFormat format(Path path) {
        String problem = InputFiles.problem(path);
        if (problem != null) {
            throw new SafetensorsException(Rule.IO, path.toString(), null, problem);
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer head = ByteBuffer.allocate((int) Math.min(size, CheckpointFormat.HEAD_BYTES));
            while (head.hasRemaining() && ch.read(head) >= 0) {
                // read the head, or as much as there is
            }
            return CheckpointFormat.of(java.util.Arrays.copyOf(head.array(), head.position()), size);
        } catch (IOException e) {
            throw new SafetensorsException(Rule.IO, path.toString(), null, "cannot read: " + Messages.value(e), e);
        }
    }
}
