// The single Lambda `bootstrap` executable; the Runtime API host lands with issue 6.
return 0;
