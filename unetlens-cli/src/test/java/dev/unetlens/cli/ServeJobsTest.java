package dev.unetlens.cli;

import dev.unetlens.web.jobs.JobLauncher;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The analyze kinds of issue 19 as jobs: their forms list the command's own options, a valid argument list passes
 * the CLI's parser and a bad value is refused at its option (what the Jobs page marks).
 */
class ServeJobsTest {
    private final ServeJobs jobs = new ServeJobs();

    @ParameterizedTest
    @ValueSource(strings = {"analyze paper", "analyze anomalies", "analyze groups", "analyze probe"})
    void paperKindsAreJobsWithTheirOwnOptions(String command) {
        assertThat(jobs.commands()).contains(command);
        List<String> names = jobs.options(command).stream().map(JobLauncher.OptionInfo::name).toList();
        assertThat(names).contains("--images", "--at", "--labels", "--k", "--resume").doesNotContain("--help");
        assertThat(names.contains("--seeds")).isEqualTo(command.equals("analyze anomalies"));
        jobs.check(command, List.of("--images", "a.png", "--at", "paper", "--k", "4.5", "--resume", "--out", "o"));  // --out: the server's
        assertThatThrownBy(() -> jobs.check(command, List.of("--images", "a.png", "--k", "many", "--out", "o")))
                .isInstanceOfSatisfying(JobLauncher.JobArgumentException.class, e -> {
                    assertThat(e.option()).isEqualTo("--k");
                    assertThat(e.getMessage()).contains("many");
                });
    }
}
