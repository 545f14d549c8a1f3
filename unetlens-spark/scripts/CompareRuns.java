import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.File;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Compares two {@code unetlens batch} outputs (standalone-check.sh: a cluster run against a local[2] run): every table's
 * rows, chunk column left out, sorted, as text (arrays spelled out), must be equal; results.json's numbers equal up to
 * a relative 1e-9 (Spark sums them in another order), its text and structure exactly. Prints what it compared; exit
 * status 1 on the first difference. Run as a single-file program with Spark's jars on the class path:
 * {@code java -cp "$SPARK_HOME/jars/*" CompareRuns.java A B}.
 */
public class CompareRuns {
    private static final List<String> TABLES = List.of("features", "anomalies", "errors", "tokens", "done");
    private static final double REL = 1e-9;
    private static double worst;

    public static void main(String[] args) throws Exception {
        File a = new File(args[0]);
        File b = new File(args[1]);
        SparkSession spark = SparkSession.builder().master("local[1]").appName("compare")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        boolean same = true;
        for (String t : TABLES) {
            File ta = new File(a, "tables/" + t);
            File tb = new File(b, "tables/" + t);
            if (!ta.isDirectory() && !tb.isDirectory()) {
                continue;
            }
            List<String> ra = rows(spark, ta);
            List<String> rb = rows(spark, tb);
            boolean eq = ra.equals(rb);
            System.out.printf("table %-9s %5d rows vs %5d rows: %s%n", t, ra.size(), rb.size(), eq ? "identical" : "DIFFERENT");
            for (int i = 0; !eq && i < Math.min(ra.size(), rb.size()); i++) {
                if (!ra.get(i).equals(rb.get(i))) {
                    System.out.println("  first difference, sorted row " + i + ":\n  " + firstDiff(ra.get(i), rb.get(i)));
                    break;
                }
            }
            same &= eq;
        }
        ObjectMapper json = new ObjectMapper();
        boolean results = equal(json.readTree(new File(a, "results.json")), json.readTree(new File(b, "results.json")), "");
        System.out.printf("results.json: %s (largest relative difference %.2e)%n", results ? "equal" : "DIFFERENT", worst);
        spark.stop();
        System.exit(same && results ? 0 : 1);
    }

    private static List<String> rows(SparkSession spark, File dir) {
        if (!dir.isDirectory()) {
            return List.of();
        }
        Dataset<Row> d = spark.read().parquet(dir.getPath()).drop("chunk");
        String[] cols = d.columns();
        return d.collectAsList().stream().map(r -> {
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < cols.length; i++) {
                Object v = r.get(i);
                s.append(cols[i]).append('=').append(v instanceof scala.collection.Seq<?> q ? q.mkString("[", ",", "]") : v).append(' ');
            }
            return s.toString();
        }).sorted().toList();
    }

    /** The first column whose text differs, both values (to 200 characters). */
    private static String firstDiff(String a, String b) {
        String[] ca = a.split(" (?=[a-z_]+=)");
        String[] cb = b.split(" (?=[a-z_]+=)");
        for (int i = 0; i < Math.min(ca.length, cb.length); i++) {
            if (!ca[i].equals(cb[i])) {
                return cut(ca[i]) + "\n  vs " + cut(cb[i]);
            }
        }
        return cut(a) + "\n  vs " + cut(b);
    }

    private static String cut(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "…" : s;
    }

    /** The two trees have the same structure and text, and numbers within {@link #REL}; the first difference printed. */
    private static boolean equal(JsonNode a, JsonNode b, String where) {
        if (a.isNumber() && b.isNumber()) {
            double x = a.asDouble();
            double y = b.asDouble();
            double rel = Math.abs(x - y) / Math.max(1e-300, Math.max(Math.abs(x), Math.abs(y)));
            worst = Math.max(worst, x == y ? 0 : rel);
            return report(x == y || rel <= REL, where, a, b);
        }
        if (a.isObject() && b.isObject()) {
            if (a.size() != b.size()) {
                return report(false, where, a.size() + " fields", b.size() + " fields");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = a.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!equal(e.getValue(), b.path(e.getKey()), where + "." + e.getKey())) {
                    return false;
                }
            }
            return true;
        }
        if (a.isArray() && b.isArray()) {
            if (a.size() != b.size()) {
                return report(false, where, a.size() + " items", b.size() + " items");
            }
            for (int i = 0; i < a.size(); i++) {
                if (!equal(a.get(i), b.get(i), where + "[" + i + "]")) {
                    return false;
                }
            }
            return true;
        }
        return report(a.equals(b), where, a, b);
    }

    private static boolean report(boolean ok, String where, Object a, Object b) {
        if (!ok) {
            System.out.println("results.json" + where + ": " + a + " vs " + b);
        }
        return ok;
    }
}
