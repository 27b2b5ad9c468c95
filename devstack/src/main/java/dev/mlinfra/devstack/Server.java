package dev.mlinfra.devstack;

import java.util.Map;

/** One server of the devstack: started, stopped and started again on the same port with the same data. */
public interface Server {

    /** The component name used on the command line: {@code postgres}, {@code kafka} or {@code s3}. */
    String name();

    /** Starts the server and returns once it answers requests. Does nothing when it runs. */
    void start() throws Exception;

    /** Stops the server, keeping its data and its port for the next start. Does nothing when stopped. */
    void stop();

    boolean isRunning();

    /** The state-file entries of this server (valid once it was started at least once). */
    Map<String, String> state();

    /** Where it keeps its data and logs, for the startup summary. */
    String describe();
}
