package dev.unetlens.spark;

import dev.unetlens.cli.Main;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * spark-submit's main class in the shaded jar: {@code spark-submit --class dev.unetlens.spark.BatchMain
 * unetlens-spark-cluster.jar --input … --out …} runs {@code unetlens batch …} with spark-submit's master.
 */
public final class BatchMain {
    private BatchMain() {
    }

    public static void main(String[] args) {
        List<String> a = new ArrayList<>(List.of("batch"));
        a.addAll(Arrays.asList(args));
        Main.main(a.toArray(String[]::new));
    }
}
