package docflow;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;

/**
 * Runs Neo4j Community as a Bolt server for docflow.
 *
 * Configuration comes from the environment that infra/services.py sets from docflow's settings:
 * NEO4J_HOME (data directory), NEO4J_BOLT_HOST, NEO4J_BOLT_PORT, NEO4J_PASSWORD, NEO4J_PAGECACHE_MB,
 * NEO4J_BOLT_KEEP_ALIVE_S.
 * The password is applied to the built-in "neo4j" user on every start, so the server always
 * accepts exactly the credentials the settings name.
 */
public final class Neo4jLauncher {
    private Neo4jLauncher() {}

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }

    public static void main(String[] args) throws Exception {
        Path home = Path.of(env("NEO4J_HOME", "var/neo4j")).toAbsolutePath();
        String host = env("NEO4J_BOLT_HOST", "127.0.0.1");
        int port = Integer.parseInt(env("NEO4J_BOLT_PORT", "7687"));
        String password = env("NEO4J_PASSWORD", "");
        if (password.length() < 8) {
            System.err.println("NEO4J_PASSWORD must be at least 8 characters");
            System.exit(2);
        }
        long pageCacheMb = Long.parseLong(env("NEO4J_PAGECACHE_MB", "256"));
        long keepAliveS = Long.parseLong(env("NEO4J_BOLT_KEEP_ALIVE_S", "60"));

        DatabaseManagementService service = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress(host, port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress(host, port))
                .setConfig(HttpConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pageCacheMb))
                // Neo4j keeps two days of transaction logs by default: gigabytes on a busy local
                // pipeline. Logs since the last checkpoint are always kept, so recovery is intact.
                .setConfig(GraphDatabaseSettings.keep_logical_logs, env("NEO4J_TX_LOG_RETENTION", "256M size"))
                .setConfig(GraphDatabaseSettings.shutdown_transaction_end_timeout, Duration.ofSeconds(5))
                // The drivers' only read deadline is the hint this server sends at HELLO,
                // connection.recv_timeout_seconds = keep-alive x probes; a request in progress gets
                // a NOOP chunk after each keep-alive of silence, so a long write never trips it, and
                // a silent (half-open) connection is dropped after the hint instead of 120 s. The
                // scheduler looks every second: with its default (1 min) a NOOP could come later
                // than a short hint allows.
                .setConfig(BoltConnector.connection_keep_alive, Duration.ofSeconds(keepAliveS))
                .setConfig(BoltConnector.connection_keep_alive_probes, 3)
                .setConfig(BoltConnector.connection_keep_alive_streaming_scheduling_interval, Duration.ofSeconds(1))
                .build();
        Runtime.getRuntime().addShutdownHook(new Thread(service::shutdown, "neo4j-shutdown"));

        service.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
                "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED",
                Map.of("password", password));

        System.out.println("neo4j ready bolt://" + host + ":" + port);
        System.out.flush();
        Thread.currentThread().join();
    }
}
