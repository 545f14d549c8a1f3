package dev.unetlens.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.FeatureStream;
import dev.unetlens.analysis.Sampling;
import dev.unetlens.analysis.images.ImageSet;
import dev.unetlens.analysis.similarity.Measure;
import dev.unetlens.analysis.similarity.SimilarityReport;
import dev.unetlens.analysis.similarity.TokenSimilarity;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.pipeline.StableDiffusion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;

/** {@code unetlens analyze similarity}: {@link TokenSimilarity}. */
@Command(name = "similarity", mixinStandardHelpOptions = true, sortOptions = false,
        header = "The similarity explorer: one token of image A against every token of image B.",
        description = {"A reference token (--token ROW,COL) of image A's map against every token of image B's map (--images A",
            "[B]; B defaults to A), with one of the explorer's measures: cosine, cosine_centered, dot-product, manhattan,",
            "euclidean, chebyshev, rel-l2-norm. Writes the map (.npy) and its picture over B; --all-tokens also the full",
            "cosine matrix (H, W, H', W') like sdhelper's cosine_similarity. Defaults: --at up_blocks[1], --timestep 50."})
final class AnalyzeSimilarity extends AnalyzeKind {
    @Option(names = "--token", paramLabel = "ROW,COL", required = true, description = "The reference token on A's map (0-based).")
    String token;

    @Option(names = "--measure", paramLabel = "NAME", defaultValue = "cosine", description = "Similarity measure (default: ${DEFAULT-VALUE}).")
    String measure;

    @Option(names = "--all-tokens", description = "Also write every token of A against every token of B (cosine).")
    boolean allTokens;

    @Override
    String kind() {
        return "similarity";
    }

    @Override
    String defaultModules() {
        return "up_blocks[1]";
    }

    @Override
    List<Integer> defaultTimesteps() {
        return List.of(TokenSimilarity.DEFAULT_TIMESTEP);
    }

    @Override
    int defaultSamples() {
        return 1;
    }

    @Override
    void checkOptions(List<Integer> timesteps) {
        Measure.parse(measure);
        tokenAt();
    }

    private int[] tokenAt() {
        String[] p = token.split(",");
        try {
            if (p.length != 2) {
                throw new NumberFormatException();
            }
            return new int[] {Integer.parseInt(p[0].strip()), Integer.parseInt(p[1].strip())};
        } catch (NumberFormatException e) {
            throw new UnetlensException("--token takes ROW,COL like 12,20, got '" + token + "'");
        }
    }

    private TokenSimilarity.Options options(Sampling s) {
        int[] rc = tokenAt();
        return new TokenSimilarity.Options(s, rc[0], rc[1], Measure.parse(measure), allTokens);
    }

    @Override
    void checkShapes(StableDiffusion sd, Sampling s, int width, int height) {
        TokenSimilarity.checkToken(options(s), FeatureStream.shapes(sd, s.points(), width, height));
    }

    @Override
    void checkImageCount(int n) {
        if (n > 2) {
            throw new UnetlensException("similarity takes one image (compared with itself) or two (A, then B); got " + n);
        }
    }

    @Override
    void run(StableDiffusion sd, ImageSet images, Sampling s, OutputDirectory out, ObjectNode request) {
        TokenSimilarity.Result r = TokenSimilarity.of(sd, images, options(s), ConsoleProgress.forStderr());
        SimilarityReport.write(r, images.image(0), images.image(images.size() - 1), request, out);
    }
}
