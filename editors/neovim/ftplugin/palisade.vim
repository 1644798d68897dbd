" Palisade: comments and indentation as `palisade fmt` writes them.
if exists("b:did_ftplugin")
  finish
endif
let b:did_ftplugin = 1
setlocal commentstring=//\ %s
setlocal comments=://
setlocal shiftwidth=2 softtabstop=2 expandtab
setlocal iskeyword=a-z,A-Z,48-57,_
let b:undo_ftplugin = "setlocal commentstring< comments< shiftwidth< softtabstop< expandtab< iskeyword<"
