package dev.unetlens.io.ldm;

import dev.unetlens.Messages;
import dev.unetlens.UnetlensException;

import java.util.Collection;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How an LDM {@code UNetModel}'s flat block lists divide into resolution levels. LDM numbers
 * {@code input_blocks} 0 (conv_in), then per level {@code layersPerBlock} blocks of resnet (+ attention) and, below
 * the last level, one downsampler: {@code levels · (layersPerBlock + 1)} blocks; {@code output_blocks} hold
 * {@code layersPerBlock + 1} blocks per level. diffusers reads {@code layers_per_block} from the LDM yaml
 * ({@code num_res_blocks}); a safetensors file has no yaml, so it is read off the downsamplers' positions: the first
 * {@code input_blocks.N.0.op} is at N = layersPerBlock + 1.
 *
 * @param levels         resolution levels (len(channel_mult))
 * @param layersPerBlock resnets per down level ({@code num_res_blocks})
 */
record UnetLayout(int levels, int layersPerBlock) {
    private static final Pattern INPUT = Pattern.compile("input_blocks\\.(\\d{1,9})\\..*");
    private static final Pattern DOWNSAMPLE = Pattern.compile("input_blocks\\.(\\d{1,9})\\.0\\.op\\.weight");
    private static final Pattern OUTPUT = Pattern.compile("output_blocks\\.(\\d{1,9})\\..*");

    /** Reads the layout from U-Net keys without the {@code model.diffusion_model.} prefix. */
    static UnetLayout of(Collection<String> keys, String source) {
        TreeSet<Integer> inputs = new TreeSet<>();
        TreeSet<Integer> downsamplers = new TreeSet<>();
        TreeSet<Integer> outputs = new TreeSet<>();
        for (String k : keys) {
            collect(INPUT, k, inputs);
            collect(DOWNSAMPLE, k, downsamplers);
            collect(OUTPUT, k, outputs);
        }
        if (inputs.size() < 2) {
            throw new UnetlensException(source + ": the U-Net has no input_blocks beyond conv_in; not an LDM UNetModel");
        }
        int layers = downsamplers.isEmpty() ? inputs.last() : downsamplers.first() - 1;
        int levels = downsamplers.size() + 1;
        long expected = (long) levels * (layers + 1);
        if (layers < 1 || inputs.size() != expected || inputs.last() != expected - 1
                || outputs.isEmpty() || outputs.size() != expected || outputs.last() != expected - 1) {
            throw new UnetlensException(source + ": U-Net blocks do not follow the LDM layout (" + inputs.size()
                    + " input_blocks and " + outputs.size() + " output_blocks, downsamplers at "
                    + Messages.value(downsamplers) + "; expected " + expected + " of each for " + levels + " levels of "
                    + layers + " resnets)");
        }
        return new UnetLayout(levels, layers);
    }

    private static void collect(Pattern p, String key, TreeSet<Integer> into) {
        Matcher m = p.matcher(key);
        if (m.matches()) {
            into.add(Integer.parseInt(m.group(1)));
        }
    }

    /** The {@code input_blocks} index of down level {@code level}'s resnet {@code j}. */
    int inputBlock(int level, int j) {
        return level * (layersPerBlock + 1) + j + 1;
    }

    /** The {@code output_blocks} index of up block {@code block}'s resnet {@code j} (block 0: lowest resolution). */
    int outputBlock(int block, int j) {
        return block * (layersPerBlock + 1) + j;
    }
}
