" Palisade syntax (for editors without semantic tokens, such as neovim 0.7).
if exists("b:current_syntax")
  finish
endif

syntax keyword palisadeDeclaration site use const role person service protocol group zone asset
syntax keyword palisadeDeclaration conduit firewall gateway link workorder dataflow assert profile
syntax keyword palisadeConstant any external base integrity confidentiality push pull
syntax keyword palisadeKeyword timezone roles function access security_level network at kind capability interface
syntax keyword palisadeKeyword bridge compensating covers relies_on because owner expires allow when unidirectional
syntax keyword palisadeKeyword log target faces inline mode between and or of scope requested_by
syntax keyword palisadeKeyword approved_by separation_of_duties prerequisite window max_duration emergency review_after opens no_path only_via
syntax keyword palisadeKeyword isolated reachable approvals in during except description inspect provides broadcast
syntax keyword palisadeKeyword multicast layer2 isolation require disable
syntax match palisadeFr "\<FR[1-7]\>"
syntax match palisadeDay "\<\(Mon\|Tue\|Wed\|Thu\|Fri\|Sat\|Sun\)\>"
syntax match palisadeTransport "\<\(tcp\|udp\|icmpv6\|icmp\|proto\|ethertype\)\ze\s*/"
syntax match palisadeNumber "\<\d\+\>"
syntax match palisadeNumber "\<0[xX]\x\+\>"
syntax match palisadeNumber "\<\d\+[smhd]\>"
syntax match palisadeNumber "\<\d\{4}-\d\{2}-\d\{2}\>"
syntax match palisadeNumber "\<\d\{2}:\d\{2}\>"
syntax match palisadeAddress "\<\d\+\.\d\+\.\d\+\.\d\+\(/\d\+\)\="
syntax match palisadeAddress "\x\{0,4}\(:\x\{0,4}\)\{2,7}\(/\d\+\)\="
syntax match palisadeArrow "<->\|->"
syntax region palisadeString start=+"+ skip=+\\[\\"]+ end=+"+ oneline contains=palisadeEscape
syntax match palisadeEscape +\\[\\"]+ contained
syntax match palisadeDeclName "\(\<\(zone\|asset\|service\|conduit\|firewall\|gateway\|link\|workorder\|dataflow\|role\|group\|const\|protocol\|profile\)\s\+\)\@<=\h\w*"
syntax keyword palisadeTodo TODO FIXME XXX contained
syntax match palisadeComment "//.*$" contains=palisadeTodo
syntax region palisadeComment start="/\*" end="\*/" contains=palisadeTodo

highlight default link palisadeDeclaration Structure
highlight default link palisadeKeyword Keyword
highlight default link palisadeConstant Constant
highlight default link palisadeFr Constant
highlight default link palisadeDay Constant
highlight default link palisadeTransport Type
highlight default link palisadeNumber Number
highlight default link palisadeAddress Number
highlight default link palisadeArrow Operator
highlight default link palisadeString String
highlight default link palisadeEscape SpecialChar
highlight default link palisadeDeclName Identifier
highlight default link palisadeComment Comment
highlight default link palisadeTodo Todo

let b:current_syntax = "palisade"
