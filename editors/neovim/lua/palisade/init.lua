-- Palisade language server for neovim 0.7 and later (`vim.lsp.start_client`, no plugins).
--
--   vim.opt.runtimepath:append("/path/to/palisade/editors/neovim")
--   require("palisade").setup({ cmd = { "palisade", "lsp" } })
--
-- One server serves every Palisade buffer; each file's directory is its site.
local M = {}

local client_id = nil

local function on_attach(client, bufnr)
  local map = function(keys, fn, desc)
    vim.keymap.set("n", keys, fn, { buffer = bufnr, desc = desc })
  end
  map("gd", vim.lsp.buf.definition, "Palisade: go to definition")
  map("gr", vim.lsp.buf.references, "Palisade: references")
  map("K", vim.lsp.buf.hover, "Palisade: hover")
  map("<leader>rn", vim.lsp.buf.rename, "Palisade: rename")
  map("<leader>ca", vim.lsp.buf.code_action, "Palisade: code action")
  map("<leader>ds", vim.lsp.buf.document_symbol, "Palisade: outline")
  map("<leader>ws", function() vim.lsp.buf.workspace_symbol("") end, "Palisade: workspace symbols")
  -- `format` arrived in neovim 0.8; 0.7 has `formatting`.
  local format = vim.lsp.buf.format or vim.lsp.buf.formatting
  map("<leader>f", function() format() end, "Palisade: format")
  vim.bo[bufnr].omnifunc = "v:lua.vim.lsp.omnifunc"
end

function M.setup(opts)
  opts = opts or {}
  local cmd = opts.cmd or { "palisade", "lsp" }
  local group = vim.api.nvim_create_augroup("palisade_lsp", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = "palisade",
    callback = function(args)
      if client_id == nil or vim.lsp.get_client_by_id(client_id) == nil then
        client_id = vim.lsp.start_client({
          name = "palisade",
          cmd = cmd,
          root_dir = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(args.buf), ":p:h"),
          on_attach = opts.on_attach or on_attach,
        })
      end
      if client_id ~= nil then
        vim.lsp.buf_attach_client(args.buf, client_id)
      end
    end,
  })
end

return M
