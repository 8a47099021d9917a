namespace Pipeline.Core.Query;

/// <summary>
/// Splits SQL text into tokens well enough to rewrite it safely: string literals, quoted
/// identifiers and comments are single tokens, so nothing inside them is ever rewritten or
/// substituted. Concatenating the tokens' text gives the input back unchanged.
/// </summary>
internal static class SqlTokenizer
{
    public static List<SqlToken> Tokenize(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var tokens = new List<SqlToken>();
        var i = 0;
        while (i < sql.Length)
        {
            var start = i;
            var c = sql[i];
            SqlTokenKind kind;
            if (char.IsWhiteSpace(c))
            {
                while (i < sql.Length && char.IsWhiteSpace(sql[i]))
                {
                    i++;
                }

                kind = SqlTokenKind.Whitespace;
            }
            else if (c == '-' && Peek(sql, i + 1) == '-')
            {
                while (i < sql.Length && sql[i] != '\n')
                {
                    i++;
                }

                kind = SqlTokenKind.Comment;
            }
            else if (c == '/' && Peek(sql, i + 1) == '*')
            {
                var end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? throw new SqlSyntaxException("unterminated /* comment") : end + 2;
                kind = SqlTokenKind.Comment;
            }
            else if (c is '\'' or '"' or '`')
            {
                i = SkipQuoted(sql, i, c);
                kind = c == '\'' ? SqlTokenKind.String : SqlTokenKind.QuotedIdentifier;
            }
            else if (c == ':' && Peek(sql, i + 1) is var n && IsIdentifierStart(n) && Peek(sql, i - 1) != ':')
            {
                i++;
                while (i < sql.Length && IsIdentifierPart(sql[i]))
                {
                    i++;
                }

                kind = SqlTokenKind.Parameter;
            }
            else if (c == '$' && Peek(sql, i + 1) == '{')
            {
                var end = sql.IndexOf('}', i + 2);
                i = end < 0 ? throw new SqlSyntaxException("unterminated ${ parameter") : end + 1;
                kind = SqlTokenKind.Parameter;
            }
            else if (IsIdentifierStart(c))
            {
                while (i < sql.Length && IsIdentifierPart(sql[i]))
                {
                    i++;
                }

                kind = SqlTokenKind.Identifier;
            }
            else if (char.IsAsciiDigit(c) || (c == '.' && char.IsAsciiDigit(Peek(sql, i + 1))))
            {
                while (i < sql.Length && (char.IsAsciiLetterOrDigit(sql[i]) || sql[i] == '.'
                    || ((sql[i] is '+' or '-') && (sql[i - 1] is 'e' or 'E'))))
                {
                    i++;
                }

                kind = SqlTokenKind.Number;
            }
            else
            {
                i++;
                kind = SqlTokenKind.Punctuation;
            }

            tokens.Add(new SqlToken(kind, sql[start..i]));
        }

        return tokens;
    }

    /// <summary>The parameter name of a <see cref="SqlTokenKind.Parameter"/> token (`:name` or `${name}`).</summary>
    public static string ParameterName(SqlToken token) =>
        token.Text.StartsWith("${", StringComparison.Ordinal) ? token.Text[2..^1] : token.Text[1..];

    private static int SkipQuoted(string sql, int i, char quote)
    {
        i++;
        while (i < sql.Length)
        {
            if (sql[i] == quote)
            {
                // A doubled quote is an escaped quote inside the literal.
                if (Peek(sql, i + 1) == quote)
                {
                    i += 2;
                    continue;
                }

                return i + 1;
            }

            i++;
        }

        throw new SqlSyntaxException($"unterminated {quote}-quoted text");
    }

    private static char Peek(string s, int i) => i >= 0 && i < s.Length ? s[i] : '\0';

    private static bool IsIdentifierStart(char c) => char.IsAsciiLetter(c) || c == '_';

    private static bool IsIdentifierPart(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
}

internal enum SqlTokenKind
{
    Whitespace,
    Comment,
    String,
    QuotedIdentifier,
    Identifier,
    Number,
    Parameter,
    Punctuation,
}

internal readonly record struct SqlToken(SqlTokenKind Kind, string Text)
{
    public bool IsTrivia => Kind is SqlTokenKind.Whitespace or SqlTokenKind.Comment;

    public bool Is(string punctuation) => Kind == SqlTokenKind.Punctuation && Text == punctuation;

    public bool IsWord(string word) => Kind == SqlTokenKind.Identifier && Text.Equals(word, StringComparison.OrdinalIgnoreCase);
}

/// <summary>SQL text that the tokenizer or translator cannot handle.</summary>
public sealed class SqlSyntaxException : Exception
{
    public SqlSyntaxException(string message)
        : base(message)
    {
    }

    public SqlSyntaxException()
    {
    }

    public SqlSyntaxException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
