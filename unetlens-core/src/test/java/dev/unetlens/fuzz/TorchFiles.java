package dev.unetlens.fuzz;

import dev.unetlens.io.DType;
import dev.unetlens.io.pickle.TorchZipWriter;

import java.util.LinkedHashMap;
import java.util.Map;

/** The micro single-file checkpoints as tensors for the torch writers. */
final class TorchFiles {
    private TorchFiles() {
    }

    /** The tensors of a safetensors file as the fuzzer holds it (dtypes it does not know become F32 bytes). */
    static Map<String, TorchZipWriter.Tensor> tensors(StFile f) {
        Map<String, TorchZipWriter.Tensor> out = new LinkedHashMap<>();
        for (StFile.Tensor t : f.tensors) {
            DType d = DType.fromSafetensors(t.dtype).orElse(DType.U8);
            out.put(t.name, new TorchZipWriter.Tensor(d, t.shape, t.data));
        }
        return out;
    }
}
