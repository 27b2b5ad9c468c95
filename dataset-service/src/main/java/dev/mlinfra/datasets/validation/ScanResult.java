package dev.mlinfra.datasets.validation;

import java.time.LocalDate;
import java.util.List;
import java.util.SortedSet;

/**
 * What a scan of a whole file found: the number of records, statistics over the valid ones,
 * and the first errors with the total count. The file is usable only when {@link #valid()}.
 */
public record ScanResult(long records, SortedSet<String> repositories, SortedSet<String> issueTypes,
        LocalDate earliest, LocalDate latest, List<RecordError> firstErrors, long errorCount) {

    public boolean valid() {
        return errorCount == 0 && records > 0;
    }

    /** One line for the dataset's failure reason. */
    public String summary() {
        if (errorCount == 0 && records == 0) {
            return "The file holds no records";
        }
        // malformed JSON or a value past a limit stops the scan: its error is at a record past those read whole
        long stoppedAt = firstErrors.get(firstErrors.size() - 1).record();
        String where = stoppedAt > records
                ? " (validation stopped at record " + stoppedAt + ")"
                : records == 0 ? "" : " in " + records + (records == 1 ? " record" : " records");
        return errorCount + (errorCount == 1 ? " problem" : " problems") + " found" + where + "; first: " + firstErrors.get(0);
    }
}
