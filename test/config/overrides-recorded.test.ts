/**
 * Regression data recorded from Hydra 1.3.2's own parser (ANTLR 4.9 runtime) on seeded random overrides:
 * exact error messages, and the value written back as text. Complements overrides-fuzz (robustness) and
 * overrides-conformance (the shared cases).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OverrideParseError, parseOverride } from '../../src/config/overrides/index.js';

const RECORDED: { errors: Array<[string, string]>; values: Array<[string, string, string]> } = {
"errors": [
[
"~ ,",
"LexerNoViableAltException: ~ ,\n                            ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"#list.0= glob(sort(include={},true))",
"LexerNoViableAltException: #list.0= glob(sort(include={},true))\n                           ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"$k=shuffle(step=s@ort (float({}=, 'a\\'b', sort ()),1.5)",
"no viable alternative at input 'shuffle(step=s@ort ('\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"a-b/c-d=glob(False, [[\\ ,[1_000,\\,,False]],+2], exclude=-)",
"Error parsing override 'a-b/c-d=glob(False, [[\\ ,[1_000,\\,,False]],+2], exclude=-)'\nTypeError while evaluating 'glob(False, [[\\ ,[1_000,\\,,False]],+2], exclude=-)': multiple values for argument 'exclude'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~a.=\"${x}\"",
"LexerNoViableAltException: ~a.=\"${x}\"\n                             ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"+0=@",
"LexerNoViableAltException: +0=@\n                            ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"a.,=${oc.env:X,y}",
"LexerNoViableAltException: a.,=${oc.env:X,y}\n                            ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"Z0\\'",
"LexerNoViableAltException: Z0\\'\n                             ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"list.0= *,é,\\c:\\f",
"LexerNoViableAltException: list.0= *,é,\\c:\\f\n                                     ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"$#=\\,",
"LexerNoViableAltException: $#=\\,\n                            ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~list.\"",
"LexerNoViableAltException: ~list.\"\n                                ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~hydra.job.n\\'ame==range.",
"LexerNoViableAltException: ~hydra.job.n\\'ame==range.\n                                       ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"[~=inf",
"LexerNoViableAltException: [~=inf\n                           ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"+hy~dra.job.nama= sort()",
"mismatched input '~' expecting EQUAL\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"db@= [interval]\t",
"Error parsing override 'db@= [interval]\t'\nextraneous input '\\t' expecting <EOF>\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"list.0=interval(FALSE ,${oc.env:X,y} ,${oc.env:X,y})",
"Error parsing override 'list.0=interval(FALSE ,${oc.env:X,y} ,${oc.env:X,y})'\nTypeError while evaluating 'interval(FALSE ,${oc.env:X,y} ,${oc.env:X,y})': too many positional arguments\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~x@infy:z= range",
"mismatched input ':' expecting {<EOF>, EQUAL}\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"++a/[b9= d@",
"LexerNoViableAltException: ++a/[b9= d@\n                               ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"hydra.job.name=*,${oc.env:X,y},[{a+ [NaN]}],géob()",
"Error parsing override 'hydra.job.name=*,${oc.env:X,y},[{a+ [NaN]}],géob()'\nmissing ':' at '['\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~a.= {}",
"LexerNoViableAltException: ~a.= {}\n                             ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"x=int (st#r(),include=[])",
"LexerNoViableAltException: x=int (st#r(),include=[])\n                                    ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"hydra/launcher]= {b c:range(0$.5},abc",
"LexerNoViableAltException: hydra/launcher]= {b c:range(0$.5},abc\n                                         ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"++a.= \t",
"LexerNoViableAltException: ++a.= \t\n                              ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~@' = range",
"LexerNoViableAltException: ~@' = range\n                             ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"++a.b= {a:{},1:[[?,inf,'a\\'b']]},glob,{1.5:.,a : float (\"d q\", b)}",
"Error parsing override '++a.b= {a:{},1:[[?,inf,'a\\'b']]},glob,{1.5:.,a : float (\"d q\", b)}'\nValueError while evaluating 'float (\"d q\", b)': could not convert string to float: 'd q'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"a/b/\t= 3.1_4",
"LexerNoViableAltException: a/b/\t= 3.1_4\n                               ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"++a-b/c-d=bool/('a\\:b, [[\nint,[NULL,0,\t]]])",
"LexerNoViableAltException: ++a-b/c-d=bool/('a\\:b, [[\nint,[NULL,0,\t]]])\n                                           ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~hydra.job.=am)e",
"LexerNoViableAltException: ~hydra.job.=am)e\n                                     ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~x@y:z",
"mismatched input ':' expecting {<EOF>, EQUAL}\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~x@y:z= interval(interval),%,'a\\'b'",
"mismatched input ':' expecting {<EOF>, EQUAL}\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~db@pkg=0,{${",
"Error parsing override '~db@pkg=0,{${'\nmissing ':' at '{'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"+a/b/c= ,N-LL",
"Error parsing override '+a/b/c= ,N-LL'\nextraneous input ',' expecting {<EOF>, ':', BRACKET_OPEN, BRACE_OPEN, FLOAT, INT, BOOL, NULL, UNQUOTED_CHAR, ID, ESC, WS, QUOTED_VALUE, INTERPOLATION}\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"0=93.1_4",
"LexerNoViableAltException: 0=93.1_4\n                           ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"+hydra/launcher= [${a.b},db],[inf,tag()]",
"Error parsing override '+hydra/launcher= [${a.b},db],[inf,tag()]'\nValueError while evaluating 'tag()': Not enough arguments to tag, must take at least a sweep\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"+0= NUL",
"LexerNoViableAltException: +0= NUL\n                            ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"x@y:z=a,.'q '\\",
"Error parsing override 'x@y:z=a,.'q '\\'\nmissing EQUAL at ':'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"++a.b=[sort()],{x.y:b,-2 : tag}",
"Error parsing override '++a.b=[sort()],{x.y:b,-2 : tag}'\nValueError while evaluating 'sort()': empty sort input\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"++a-b/c-d=bol ({a:choice,a : \t})",
"no viable alternative at input 'bol ({a:choice,a : \\t}'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~list.0=bool([[abc,tag]]),tag,[],%",
"Error parsing override '~list.0=bool([[abc,tag]]),tag,[],%'\nValueError while evaluating 'bool([[abc,tag]])': Cannot cast 'abc' to bool\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"+\\+=+,\"2",
"LexerNoViableAltException: +\\+=+,\"2\n                            ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"+=.=#",
"LexerNoViableAltException: +=.=#\n                               ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~@ in",
"LexerNoViableAltException: ~@ in\n                             ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~x}inf@y:z",
"LexerNoViableAltException: ~x}inf@y:z\n                             ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"$=)\\",
"Error parsing override '$=)\\'\nextraneous input ')' expecting {<EOF>, ':', BRACKET_OPEN, BRACE_OPEN, FLOAT, INT, BOOL, NULL, UNQUOTED_CHAR, ID, ESC, WS, QUOTED_VALUE, INTERPOLATION}\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"x@y:z='q.s$",
"Error parsing override 'x@y:z='q.s$'\nmissing EQUAL at ':'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"++$k=\\\\,1,@rang}(end=sort (*))'",
"mismatched input '}' expecting <EOF>\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"db@=sort(glob,'a\\'b',float,é${oc.env:X,y})",
"LexerNoViableAltException: db@=sort(glob,'a\\'b',float,é${oc.env:X,y})\n                                                      ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
":@$p=loat",
"Error parsing override ':@$p=loat'\nextraneous input ':' expecting {EQUAL, '~', '+', '@', KEY_SPECIAL, DOT_PATH, ID}\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"hydra.job.name={true:\\\\{null:[]},b c:c:\\f,1.5:.}",
"no viable alternative at input '{true:\\\\{'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~hydra/launcher=sort(_x, shuffle(tag({true : \t,-2: tag,x.y:inf})))",
"no viable alternative at input 'sort(_x, shuffle(tag({true : \\t,'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"= hoice(in\tt)",
"Error parsing override '= hoice(in\tt)'\nHydraException while evaluating 'hoice(in\tt)': Unknown function 'hoice'\nAvailable: bool,choice,float,glob,int,interval,range,shuffle,sort,str,tag\n\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"hyra/launcher=choice,{b \\c:\t,x.y:[glob]},nul",
"Error parsing override 'hyra/launcher=choice,{b \\c:\t,x.y:[glob]},nul'\nextraneous input ',' expecting {':', BRACKET_OPEN, BRACE_OPEN, FLOAT, INT, BOOL, NULL, UNQUOTED_CHAR, ID, ESC, WS, QUOTED_VALUE, INTERPOLATION}\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"+a-b/c-#d=+,db,}",
"LexerNoViableAltException: +a-b/c-#d=+,db,}\n                                  ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"x=tag (includ$e='[1,2','[,2]',FALSE,${oc.env:X,y})",
"no viable alternative at input 'tag (includ$e='\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"+= shuffle ([?], list=_x, {a:sort(abc, :shuffle, glob(\"${$x}\",b))})",
"Error parsing override '+= shuffle ([?], list=_x, {a:sort(abc, :shuffle, glob(\"${$x}\",b))})'\npositional argument follows keyword argument\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"a/b/c= [str(shuffle(shuffle (${a.b},'q s',sort,1),interval ()))]",
"Error parsing override 'a/b/c= [str(shuffle(shuffle (${a.b},'q s',sort,1),interval ()))]'\nTypeError while evaluating 'interval ()': missing a required argument: 'start'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"@$p=N+}",
"Error parsing override '@$p=N+}'\nextraneous input '}' expecting <EOF>\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"}~a'@-b/c-d",
"LexerNoViableAltException: }~a'@-b/c-d\n                           ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"a-b/c-dZinterval inf)",
"LexerNoViableAltException: a-b/c-dZinterval inf)\n                                           ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"k@$pNN",
"Error parsing override 'k@$pNN'\nmissing EQUAL at '<EOF>'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"++$k=[1.],f@oo(glo,),_x,,pad ",
"mismatched input '(' expecting <EOF>\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"hydra/launch[e$r=bool",
"LexerNoViableAltException: hydra/launch[e$r=bool\n                                       ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"++$k=choice()",
"Error parsing override '++$k=choice()'\nValueError while evaluating 'choice()': empty choice is not legal\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"+a/b= tag,str ()",
"Error parsing override '+a/b= tag,str ()'\nTypeError while evaluating 'str ()': No positional args or value specified\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~a ={x.y: str (),1.5:float(bool())}",
"LexerNoViableAltException: ~a ={x.y: str (),1.5:float(bool())}\n                             ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"a/b/c=sort(foo(/p/q.txt,interval(abc-1, 'q s'),\t) ,sort())",
"no viable alternative at input 'sort(foo(/p/q.txt,interval(abc-1, 'q s'),\\t)'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~a.= glob",
"LexerNoViableAltException: ~a.= glob\n                             ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~= [],int(str (),x=foo (),tag(sweep=interval)),[],choice ()",
"Error parsing override '~= [],int(str (),x=foo (),tag(sweep=interval)),[],choice ()'\nTypeError while evaluating 'str ()': No positional args or value specified\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~grp@a.b= {1.:5:-,1:str,néull: []}",
"LexerNoViableAltException: ~grp@a.b= {1.:5:-,1:str,néull: []}\n                                                    ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~a/b/c=range(sweep=bool (\\,) ,[-1e-3,1] ,[])",
"Error parsing override '~a/b/c=range(sweep=bool (\\,) ,[-1e-3,1] ,[])'\nValueError while evaluating 'bool (\\,)': Cannot cast ',' to bool\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"=[*,str(db, end=interval()),${oc.env:X,y}]",
"Error parsing override '=[*,str(db, end=interval()),${oc.env:X,y}]'\nTypeError while evaluating 'interval()': missing a required argument: 'start'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"+\"/= -1",
"LexerNoViableAltException: +\"/= -1\n                            ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~0=glob ()",
"LexerNoViableAltException: ~0=glob ()\n                            ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~a.\nb=_x",
"LexerNoViableAltException: ~a.\nb=_x\n                             ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"\\+@=)",
"LexerNoViableAltException: \\+@=)\n                           ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"++x@y:z={a: {},b c:shuffle (),rue:interval}",
"Error parsing override '++x@y:z={a: {},b c:shuffle (),rue:interval}'\nmissing EQUAL at ':'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"@= {null:{x.y:1.5,b c:[int(/p/q.txt, interval, .5, 3.1_4)]}}",
"Error parsing override '@= {null:{x.y:1.5,b c:[int(/p/q.txt, interval, .5, 3.1_4)]}}'\nValueError while evaluating 'int(/p/q.txt, interval, .5, 3.1_4)': invalid literal for int() with base 10: '/p/q.txt'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"$k=[glob (start=interval(\"\")),%]",
"Error parsing override '$k=[glob (start=interval(\"\")),%]'\nTypeError while evaluating 'interval(\"\")': missing a required argument: 'end'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"a/b/c= float (abc-1)",
"Error parsing override 'a/b/c= float (abc-1)'\nValueError while evaluating 'float (abc-1)': could not convert string to float: 'abc-1'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"+a.=true",
"LexerNoViableAltException: +a.=true\n                             ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"-b9\t-d=0",
"LexerNoViableAltException: -b9\t-d=0\n                           ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"x@y:z=c:\\f",
"Error parsing override 'x@y:z=c:\\f'\nmissing EQUAL at ':'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~hydra9/l#unc,er=bool(),${oc.env:X,y},x",
"LexerNoViableAltException: ~hydra9/l#unc,er=bool(),${oc.env:X,y},x\n                                    ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"k@$p= 01,sort (),.5",
"Error parsing override 'k@$p= 01,sort (),.5'\nValueError while evaluating 'sort ()': empty sort input\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~a.=*",
"LexerNoViableAltException: ~a.=*\n                             ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"++1",
"LexerNoViableAltException: ++1\n                             ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"a.=Z\\,",
"LexerNoViableAltException: a.=Z\\,\n                            ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
":~",
"Error parsing override ':~'\nextraneous input ':' expecting {EQUAL, '~', '+', '@', KEY_SPECIAL, DOT_PATH, ID}\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"++db@pkg= choice(% ,foo (str (sweep=+,[\\\\],abc)) , pad )",
"Error parsing override '++db@pkg= choice(% ,foo (str (sweep=+,[\\\\],abc)) , pad )'\npositional argument follows keyword argument\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~=~",
"LexerNoViableAltException: ~=~\n                             ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~0= shuffle (int,[\n],list=abc-1)",
"LexerNoViableAltException: ~0= shuffle (int,[\n],list=abc-1)\n                            ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~x@y:z= a b,i/terval,1.,shuffle(${oc.env:X,y} ,iné)",
"mismatched input ':' expecting {<EOF>, EQUAL}\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~a/,\tZc= a b",
"LexerNoViableAltException: ~a/,\tZc= a b\n                              ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"grp@a.b=choice({a : INF,b c:str(),true : 1} ,tag () ,[shuffle] ,'q s')",
"Error parsing override 'grp@a.b=choice({a : INF,b c:str(),true : 1} ,tag () ,[shuffle] ,'q s')'\nTypeError while evaluating 'str()': No positional args or value specified\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"\ta/b/)",
"LexerNoViableAltException: \ta/b/)\n                           ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"gr\\).b=[]",
"LexerNoViableAltException: gr\\).b=[]\n                             ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"0=a1",
"LexerNoViableAltException: 0=a1\n                           ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"= tag shuffle)",
"Error parsing override '= tag shuffle)'\nextraneous input ')' expecting <EOF>\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"++a/b=shuffle(true, range (x,int,)'a\\'b'), it()),choice,[]",
"no viable alternative at input 'shuffle(true, range (x,int,)'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"+a.b= [{a: null,1.5\\{true: choice}},[sort,\\\\]]",
"no viable alternative at input '[{a: null,1.5\\{true: choice}}'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"x= Na[",
"Error parsing override 'x= Na['\nextraneous input '[' expecting <EOF>\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"x@y:z= _int",
"Error parsing override 'x@y:z= _int'\nmissing EQUAL at ':'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"x= float[,{}",
"mismatched input '[' expecting <EOF>\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~a/bglob(tag(),x)",
"LexerNoViableAltException: ~a/bglob(tag(),x)\n                                   ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"$k= interval ({null:_x,null:true,a : \\\\}),[_x],so$rt ()",
"mismatched input ' (' expecting <EOF>\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"+a-b/c-d=foo([3.1_4,tag()], range (/p/q.txt ,int)),str,interval(),-1",
"Error parsing override '+a-b/c-d=foo([3.1_4,tag()], range (/p/q.txt ,int)),str,interval(),-1'\nValueError while evaluating 'tag()': Not enough arguments to tag, must take at least a sweep\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~list.0=[achoice(['a\\'b']),str,[]]]",
"Error parsing override '~list.0=[achoice(['a\\'b']),str,[]]]'\nextraneous input ']' expecting <EOF>\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"+0= {x.y : '',a : [],-2:foo (include=3.1_4, [], {}-}",
"LexerNoViableAltException: +0= {x.y : '',a : [],-2:foo (include=3.1_4, [], {}-}\n                            ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"inf@",
"Error parsing override 'inf@'\nmissing EQUAL at '<EOF>'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"++db@pkg${0\t",
"LexerNoViableAltException: ++db@pkg${0\t\n                                    ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"grp@a.b= [False,@],tag (False)",
"Error parsing override 'grp@a.b= [False,@],tag (False)'\nTypeError while evaluating 'tag (False)': mismatch type argument args[0]: bool is incompatible with Union[str, Sweep]\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"++=[tag(abc, int, include=%, *),db,/p/q.txt]",
"Error parsing override '++=[tag(abc, int, include=%, *),db,/p/q.txt]'\npositional argument follows keyword argument\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"++list.0=bool ({-2: nte]val()}, int (), str (start=[abc]))",
"no viable alternative at input 'bool ({-2: nte]'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"0",
"LexerNoViableAltException: 0\n                           ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"k:@$\"= \"d q\",[foo ()],NULL",
"Error parsing override 'k:@$\"= \"d q\",[foo ()],NULL'\nmissing EQUAL at ':'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"a.=9 ALSE",
"LexerNoViableAltException: a.=9 ALSE\n                            ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"db@= foo ()",
"Error parsing override 'db@= foo ()'\nHydraException while evaluating 'foo ()': Unknown function 'foo'\nAvailable: bool,choice,float,glob,int,interval,range,shuffle,sort,str,tag\n\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"db@pkg=choice ()",
"Error parsing override 'db@pkg=choice ()'\nValueError while evaluating 'choice ()': empty choice is not legal\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~0= int(foo (range ,é) ,[shuffle] ,value=-1e-3 ,reverse= pad )",
"LexerNoViableAltException: ~0= int(foo (range ,é) ,[shuffle] ,value=-1e-3 ,reverse= pad )\n                            ^\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~list.0=[null,float,int(FALSE ,choice())]",
"Error parsing override '~list.0=[null,float,int(FALSE ,choice())]'\nValueError while evaluating 'choice()': empty choice is not legal\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"+a/+b=[$",
"Error parsing override '+a/+b=[$'\nextraneous input '+' expecting ID\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"grp@a.b= foo(/inf, *),[]]str(reverse={}),shuf$le (/p/q.txt)",
"mismatched input ']' expecting <EOF>\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"+hydra=/launcher=$x",
"mismatched input '=' expecting <EOF>\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"x== tr_e",
"Error parsing override 'x== tr_e'\nextraneous input '= ' expecting {<EOF>, ':', BRACKET_OPEN, BRACE_OPEN, FLOAT, INT, BOOL, NULL, UNQUOTED_CHAR, ID, ESC, WS, QUOTED_VALUE, INTERPOLATION}\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"/b= \\\\",
"Error parsing override '/b= \\\\'\nextraneous input '/' expecting {EQUAL, '~', '+', '@', KEY_SPECIAL, DOT_PATH, ID}\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"=-inf,@,[glb (0)],int(${oc.env:X,y}",
"mismatched input '<EOF>' expecting {COMMA, PCLOSE}\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"inf++k@$p=\tNLL",
"mismatched input '+' expecting EQUAL\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"$k=int(),[choice(),float ({-2: true,x.y  \"x\\\\\",a : 1.5}),inf]",
"Error parsing override '$k=int(),[choice(),float ({-2: true,x.y  \"x\\\\\",a : 1.5}),inf]'\nmissing ':' at '\"x\\\\\"'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"d@@=a\\:b",
"Error parsing override 'd@@=a\\:b'\nextraneous input '@' expecting EQUAL\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"++a/b/= sort (*,{b c\\ [],x.y : str()},glob\n",
"Error parsing override '++a/b/= sort (*,{b c\\ [],x.y : str()},glob\n'\nextraneous input '= ' expecting ID\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"a/b=i\tnterva${",
"Error parsing override 'a/b=i\tnterva${'\nextraneous input '{' expecting <EOF>\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"++@=db{[str(reverse=abc, [choice,1.,_x], end=${a.b} start=1)]:",
"mismatched input '{' expecting <EOF>\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"a/~c=tag9 ()",
"Error parsing override 'a/~c=tag9 ()'\nextraneous input '~' expecting ID\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"a/b/c=abc,{a : ?,nuZl:NaN,: [glob]}",
"mismatched input ': ' expecting {FLOAT, INT, BOOL, NULL, UNQUOTED_CHAR, ID, ESC, WS}\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~a/b/",
"Error parsing override '~a/b/'\nmissing ID at '<EOF>'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"+a/b/c=\\ ,{1.5:tag ([] ,- ,x=[1e3]),1:[\"\",bool ),[rang#e,true]]}",
"Error parsing override '+a/b/c=\\ ,{1.5:tag ([] ,- ,x=[1e3]),1:[\"\",bool ),[rang#e,true]]}'\nextraneous input ' )' expecting {COMMA, BRACKET_CLOSE}\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"=intZerva=",
"Error parsing override '=intZerva='\nextraneous input '=' expecting <EOF>\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"x= sh)ffle",
"mismatched input ')' expecting <EOF>\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"db@=/p/q.tx(",
"Error parsing override 'db@=/p/q.tx('\nextraneous input '(' expecting <EOF>\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"x@y:z= shuffle(start={b c:[intervala\\:b, '', %, Fas\n)],null: ?})",
"Error parsing override 'x@y:z= shuffle(start={b c:[intervala\\:b, '', %, Fas\n)],null: ?})'\nmissing EQUAL at ':'\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"$b@@pkg= ${oc.env:X,'y}",
"mismatched input '@' expecting EQUAL\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~hydra.job.name=foo )()",
"mismatched input ' )' expecting <EOF>\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~$k=int ({},INF)",
"Error parsing override '~$k=int ({},INF)'\nOverflowError while evaluating 'int ({},INF)': cannot convert float infinity to integer\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"~$hydra/laucher",
"mismatched input '/' expecting {<EOF>, EQUAL}\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"+$k=[float(1.5, NULL)]",
"Error parsing override '+$k=[float(1.5, NULL)]'\nAssertionError while evaluating 'float(1.5, NULL)': \nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"grp@a.b=\"{x}\"\\\\",
"Error parsing override 'grp@a.b=\"{x}\"\\\\'\nextraneous input '\\\\' expecting <EOF>\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"li=t.0= foo([sort(),[[]]] ,list={b c: [inf]}@,1.5)",
"mismatched input '= ' expecting <EOF>\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"+k@$p= shuffle(glob (interval (http://x:80)) ,1)a,'[1,2]',-,true",
"mismatched input 'a' expecting <EOF>\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"+db@pkg=@'a\\'b',1,range",
"mismatched input ''a\\'b'' expecting <EOF>\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
],
[
"grp@a.b=\"x\\\\\",_x,{1 : [-inf,{1.5:interval,null: nan}]+1.5 : \\\\}",
"mismatched input '+1.5' expecting {COMMA, BRACE_CLOSE}\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details"
]
],
"values": [
[
"+= bool",
"bool",
"ELEMENT"
],
[
"+a.b=abc-1",
"abc-1",
"ELEMENT"
],
[
"hydra/launcher= False",
"False",
"ELEMENT"
],
[
"~db@pkg= 01",
"01",
"ELEMENT"
],
[
"~grp@a.b=NaN",
"nan",
"ELEMENT"
],
[
"hydra/launcher={}",
"{}",
"ELEMENT"
],
[
"+k@$p= []",
"[]",
"ELEMENT"
],
[
"$k= x",
"x",
"ELEMENT"
],
[
"++$k=bool",
"bool",
"ELEMENT"
],
[
"k@$p=$x",
"$x",
"ELEMENT"
],
[
"~=a",
"a",
"ELEMENT"
],
[
"a.b= nan",
"nan",
"ELEMENT"
],
[
"hydra.job.name=INF",
"inf",
"ELEMENT"
],
[
"a/b= \"${x#}\"",
"\"${x#}\"",
"ELEMENT"
],
[
"+a/b=nan",
"nan",
"ELEMENT"
],
[
"~k@$p=[${oc.env:X,y}]",
"[$\\{oc.env\\:X\\,y\\}]",
"ELEMENT"
],
[
"++list.0=3.1_4",
"3.14",
"ELEMENT"
],
[
"x=",
"",
"ELEMENT"
],
[
"++@=glob",
"glob",
"ELEMENT"
],
[
"x={}",
"{}",
"ELEMENT"
],
[
"x=abc-1",
"abc-1",
"ELEMENT"
],
[
"$k=shuffle",
"shuffle",
"ELEMENT"
],
[
"~list.0=[]",
"[]",
"ELEMENT"
],
[
"++db@=tr0u",
"tr0u",
"ELEMENT"
],
[
"~a-b/c-d= @",
"@",
"ELEMENT"
],
[
"x= hoia",
"hoia",
"ELEMENT"
],
[
"~$k= 'a\\'b'",
"'a\\'b'",
"ELEMENT"
],
[
"$k={}",
"{}",
"ELEMENT"
],
[
"db@pkg={x.y : null}",
"{x.y:null}",
"ELEMENT"
],
[
"~list.0=[]",
"[]",
"ELEMENT"
],
[
"~a-b/c-d= sort",
"sort",
"ELEMENT"
],
[
"~hydra.job.name=db",
"db",
"ELEMENT"
],
[
"a.b=ag",
"ag",
"ELEMENT"
],
[
"a.b=-1e-3",
"-0.001",
"ELEMENT"
],
[
"++list.0=bool([])",
"[]",
"ELEMENT"
],
[
"+$k=sort",
"sort",
"ELEMENT"
],
[
"+= \"x\\\\\"",
"\"x\\\\\"",
"ELEMENT"
],
[
"+a.b=bool",
"bool",
"ELEMENT"
],
[
"@=[00.5,{1 : .5}]",
"[00.5,{1:0.5}]",
"ELEMENT"
],
[
"~a/b= http://x:80",
"http\\://x\\:80",
"ELEMENT"
],
[
"~x= _abc-1",
"_abc-1",
"ELEMENT"
],
[
"+x=[]",
"[]",
"ELEMENT"
],
[
"a/b/c= \"\"",
"\"\"",
"ELEMENT"
],
[
"a/b=1.5",
"1.5",
"ELEMENT"
],
[
"a-b/c-d= $x",
"$x",
"ELEMENT"
],
[
"k@$p=.5",
"0.5",
"ELEMENT"
],
[
"grp@a.b=$x",
"$x",
"ELEMENT"
],
[
"~hydra/launcher={}",
"{}",
"ELEMENT"
],
[
"~a/b= ${oc.env:X,y}",
"$\\{oc.env\\:X\\,y\\}",
"ELEMENT"
],
[
"+a/b/c= float",
"float",
"ELEMENT"
],
[
"~a/b/c=-inf",
"-inf",
"ELEMENT"
],
[
"a-b/c-d=@",
"@",
"ELEMENT"
],
[
"++$k=3.1_4",
"3.14",
"ELEMENT"
],
[
"++$k=3.1_4",
"3.14",
"ELEMENT"
],
[
"+hydra.job.name=a\\:b",
"a\\:b",
"ELEMENT"
],
[
"~a.b= ?",
"?",
"ELEMENT"
],
[
"@=true",
"True",
"ELEMENT"
],
[
"$k=inf",
"inf",
"ELEMENT"
],
[
"+x=*",
"*",
"ELEMENT"
],
[
"++a/b=null",
"null",
"ELEMENT"
],
[
"ydra.job.name= $x",
"$x",
"ELEMENT"
],
[
"=[abc-1,'']",
"[abc-1,'']",
"ELEMENT"
],
[
"= ?:+.5",
"?\\:+.5",
"ELEMENT"
],
[
"hydra/launcher=1.",
"1.0",
"ELEMENT"
],
[
"+grp@a.b=[{},${oc.env:X,y}]",
"[{},$\\{oc.env\\:X\\,y\\}]",
"ELEMENT"
],
[
"+hydra/launcher=a",
"a",
"ELEMENT"
],
[
"hydra/launcher={}",
"{}",
"ELEMENT"
],
[
"~a/b=$c:\\f",
"$c\\:\\\\f",
"ELEMENT"
],
[
"$k=_x",
"_x",
"ELEMENT"
],
[
"@= \"${x}\"",
"\"${x}\"",
"ELEMENT"
],
[
"~$k= pad ",
"pad",
"ELEMENT"
],
[
"+a-b/c-d=NULL",
"null",
"ELEMENT"
],
[
"+db@pkg=*",
"*",
"ELEMENT"
],
[
"db@pkg=shuffle(FALSE)",
"[False]",
"ELEMENT"
],
[
"~k@$ep= []",
"[]",
"ELEMENT"
],
[
"~grp@a.b= a\\:b",
"a\\:b",
"ELEMENT"
],
[
"hydra/launcher=bool",
"bool",
"ELEMENT"
],
[
"++db@=0",
"0",
"ELEMENT"
],
[
"+a-b/c-d=.",
".",
"ELEMENT"
],
[
"list.0=hoice",
"hoice",
"ELEMENT"
]
]
};

test('error messages match the ones Hydra gave for the same inputs', () => {
  for (const [input, message] of RECORDED.errors) {
    assert.throws(
      () => parseOverride(input),
      (e: unknown) => e instanceof OverrideParseError && e.hydraMessage === message,
      JSON.stringify(input),
    );
  }
});

test('values written back as text match Hydra', () => {
  for (const [input, text, valueType] of RECORDED.values) {
    const o = parseOverride(input);
    assert.equal(o.valueType, valueType, input);
    assert.equal(o.valueAsStr(), text, input);
  }
});
