package dev.unetlens.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.io.RgbImage;

import java.util.ArrayList;
import java.util.List;

/**
 * diffusers {@code VaeImageProcessor} for SD: uint8 RGB ⇄ float tensors in [−1, 1].
 * preprocess: {@code x = 2·(u8/255) − 1}, NCHW; postprocess: {@code round(clamp(x/2 + 0.5, 0, 1)·255)} with
 * round-half-to-even as numpy's {@code round}.
 */
public final class ImageProcessor {
    private ImageProcessor() {
    }

    /** Images (all the same size) → [B, 3, H, W] float32 in [−1, 1]. */
    public static NDArray toTensor(NDManager m, List<RgbImage> images) {
        RgbImage first = images.getFirst();
        int h = first.height();
        int w = first.width();
        float[] out = new float[images.size() * 3 * h * w];
        int o = 0;
        for (RgbImage img : images) {
            if (img.width() != w || img.height() != h) {
                throw new IllegalArgumentException("images of one batch must have the same size");
            }
            byte[] px = img.rgb();
            for (int c = 0; c < 3; c++) {
                for (int i = 0; i < h * w; i++) {
                    float u = (px[i * 3 + c] & 0xff) / 255f;                  // np.float32(u8) / 255
                    out[o++] = 2f * u - 1f;
                }
            }
        }
        return m.create(out, new Shape(images.size(), 3, h, w));
    }

    /** [B, 3, H, W] in [−1, 1] → uint8 images. */
    public static List<RgbImage> toImages(NDArray x) {
        long[] s = x.getShape().getShape();
        int b = (int) s[0];
        int h = (int) s[2];
        int w = (int) s[3];
        float[] v = x.toType(DataType.FLOAT32, false).toFloatArray();
        List<RgbImage> out = new ArrayList<>(b);
        for (int n = 0; n < b; n++) {
            byte[] px = new byte[h * w * 3];
            for (int c = 0; c < 3; c++) {
                for (int i = 0; i < h * w; i++) {
                    px[i * 3 + c] = (byte) toUint8(v[((n * 3 + c) * h * w) + i]);
                }
            }
            out.add(new RgbImage(w, h, px));
        }
        return out;
    }

    /** One value in [−1, 1] → 0..255 as the diffusers post-processing does it in float32. */
    public static int toUint8(float x) {
        float f = Math.min(1f, Math.max(0f, x / 2f + 0.5f));
        return (int) Math.rint(f * 255f);
    }
}
