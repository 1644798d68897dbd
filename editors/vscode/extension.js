// The Palisade extension: starts `palisade lsp` (stdio) and connects VS Code to it.
// Every feature (diagnostics, hover, definition, references, rename, completion, symbols,
// semantic tokens, formatting, code actions, folding) comes from the language server.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

/** @type {LanguageClient | undefined} */
let client;

function createClient() {
  const config = vscode.workspace.getConfiguration("palisade");
  const command = config.get("server.path", "palisade");
  const run = { command, args: ["lsp"], transport: TransportKind.stdio };
  const serverOptions = { run, debug: run };
  const clientOptions = {
    documentSelector: [{ scheme: "file", language: "palisade" }],
    synchronize: {
      // Files changed outside the editor (git checkout, generated sites) are re-read.
      fileEvents: vscode.workspace.createFileSystemWatcher("**/*.pal"),
    },
  };
  return new LanguageClient("palisade", "Palisade", serverOptions, clientOptions);
}

async function start() {
  client = createClient();
  try {
    await client.start();
  } catch (err) {
    const path = vscode.workspace.getConfiguration("palisade").get("server.path", "palisade");
    vscode.window.showErrorMessage(
      `Palisade: could not start \`${path} lsp\` (${err && err.message ? err.message : err}). ` +
        "Install palisade or set `palisade.server.path`."
    );
  }
}

/** @param {vscode.ExtensionContext} context */
async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand("palisade.restartServer", async () => {
      if (client) {
        await client.stop();
      }
      await start();
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("palisade.server.path")) {
        await vscode.commands.executeCommand("palisade.restartServer");
      }
    })
  );
  await start();
}

async function deactivate() {
  if (client) {
    await client.stop();
  }
}

module.exports = { activate, deactivate };
