" Palisade policy files.
autocmd BufRead,BufNewFile *.pal setfiletype palisade
