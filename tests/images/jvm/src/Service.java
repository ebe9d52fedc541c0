// pare-test/jvm: a small JSON service on com.sun.net.httpserver (JDK only,
// no Maven). Port from $PORT, default 8081.
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

public final class Service {
    private Service() {}

    private static void send(HttpExchange ex, int status, String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    private static void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        if (!"GET".equals(ex.getRequestMethod())) {
            send(ex, 405, "{\"error\":\"method not allowed\"}");
        } else if ("/".equals(path)) {
            send(ex, 200, "{\"message\":\"hello from pare-test/jvm\",\"java\":\""
                    + System.getProperty("java.version") + "\"}");
        } else if ("/health".equals(path)) {
            send(ex, 200, "{\"status\":\"ok\"}");
        } else {
            send(ex, 404, "{\"error\":\"not found\"}");
        }
    }

    public static void main(String[] args) throws IOException {
        String env = System.getenv("PORT");
        int port = env == null || env.isEmpty() ? 8081 : Integer.parseInt(env);
        HttpServer server = HttpServer.create(new InetSocketAddress("0.0.0.0", port), 0);
        server.createContext("/", ex -> {
            try {
                handle(ex);
            } finally {
                ex.close();
            }
        });
        server.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> server.stop(0)));
        System.out.println("pare-test/jvm listening on " + port);
    }
}
