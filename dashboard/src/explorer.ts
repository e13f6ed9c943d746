import "graphiql/graphiql.css";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { createElement } from "react";
import { createRoot } from "react-dom/client";
import { savedKey } from "./api";

/*
 * GraphiQL, bundled (it needs no CDN, unlike Apollo Sandbox), at /explorer: the key the dashboard's prompt holds in
 * this tab is put in the headers. Headers are not persisted (GraphiQL's default): the key stays in this tab.
 */

const key = savedKey();
const fetcher = createGraphiQLFetcher({ url: `${location.origin}/graphql` });
const defaultHeaders = JSON.stringify({ authorization: key ? `Bearer ${key}` : "Bearer sk_…" }, null, 2);
const defaultQuery = "# Reports of the last 30 days, with the key of the dashboard's prompt (Headers below).\n{\n  overview(range: { days: 30 }) { totalRevenue totalOrders avgOrderValue dataAsOf }\n}\n";

createRoot(document.getElementById("explorer")!).render(createElement(GraphiQL, { fetcher, defaultHeaders, defaultQuery, defaultEditorToolsVisibility: "headers" }));
