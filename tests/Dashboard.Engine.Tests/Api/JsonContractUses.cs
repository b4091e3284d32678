using System.Text.RegularExpressions;
using Dashboard.Engine.Api;

namespace Dashboard.Engine.Tests.Api;

/// <summary>
/// The types the engine's source names in <c>DockerJson.Info&lt;T&gt;</c> (and the store's <c>StorageInfo&lt;T&gt;</c>
/// wrapper of it) and in <c>ReadBodyAsync&lt;T&gt;</c>, read from the .cs files and resolved as the compiler would
/// (the file's namespace and its parents, then its using directives and aliases), so a test can ask the context for
/// each: a type without a contract compiles and fails only when that line runs.
/// </summary>
internal static partial class JsonContractUses
{
    private static readonly string[] s_implicitUsings = ["System", "System.Collections.Generic"];

    private static readonly Dictionary<string, Type> s_keywords = new(StringComparer.Ordinal)
    {
        ["string"] = typeof(string), ["object"] = typeof(object), ["bool"] = typeof(bool), ["int"] = typeof(int),
        ["long"] = typeof(long), ["uint"] = typeof(uint), ["ulong"] = typeof(ulong), ["ushort"] = typeof(ushort),
        ["short"] = typeof(short), ["byte"] = typeof(byte), ["double"] = typeof(double),
    };

    /// <summary>Full names ('+' as '.') without the arity suffix, by arity; built from the engine and what it references.</summary>
    private static readonly Lazy<Dictionary<(string Name, int Arity), List<Type>>> s_types = new(IndexTypes);

    /// <summary>One use: where it is, the type text as written, and the type it names (null when it names none).</summary>
    public sealed record Use(string File, int Line, string Text, Type? Type);

    public static IReadOnlyList<Use> Scan(string sourceDir)
    {
        var uses = new List<Use>();
        foreach (var file in Directory.EnumerateFiles(sourceDir, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(part => part is "obj" or "bin")))
        {
            var lines = File.ReadAllLines(file);
            var scope = Scope.Of(lines);
            for (var i = 0; i < lines.Length; i++)
            {
                if (lines[i].TrimStart().StartsWith("//", StringComparison.Ordinal))
                {
                    continue;
                }

                foreach (Match m in UseStart().Matches(lines[i]))
                {
                    if (ReadTypeArgument(lines[i], m.Index + m.Length) is { } text && text != "T")
                    {
                        uses.Add(new Use(Path.GetRelativePath(sourceDir, file), i + 1, text, Resolve(text, scope)));
                    }
                }
            }
        }

        return uses;
    }

    /// <summary>The text between the '&lt;' at <paramref name="start"/> - 1 and its matching '&gt;' when a '(' follows; else null.</summary>
    private static string? ReadTypeArgument(string line, int start)
    {
        var depth = 1;
        for (var i = start; i < line.Length; i++)
        {
            depth += line[i] switch { '<' => 1, '>' => -1, _ => 0 };
            if (depth == 0)
            {
                return i + 1 < line.Length && line[i + 1] == '(' ? line[start..i].Trim() : null;
            }
        }

        return null;
    }

    private static Type? Resolve(string text, Scope scope)
    {
        var compact = text.Replace(" ", "", StringComparison.Ordinal);
        var position = 0;
        var type = Parse(compact, ref position, scope);
        return position == compact.Length ? type : null;
    }

    /// <summary>name ('&lt;' type (',' type)* '&gt;')? '?'? ('[]')*; a '?' on a class is only an annotation.</summary>
    private static Type? Parse(string text, ref int position, Scope scope)
    {
        var start = position;
        while (position < text.Length && (char.IsLetterOrDigit(text[position]) || text[position] is '_' or '.'))
        {
            position++;
        }

        var name = text[start..position];
        var arguments = new List<Type?>();
        if (position < text.Length && text[position] == '<')
        {
            do
            {
                position++;
                arguments.Add(Parse(text, ref position, scope));
            }
            while (position < text.Length && text[position] == ',');

            if (position >= text.Length || text[position] != '>')
            {
                return null;
            }

            position++;
        }

        var type = s_keywords.TryGetValue(name, out var keyword) && arguments.Count == 0 ? keyword : scope.Find(name, arguments.Count);
        if (type is not null && arguments.Count > 0)
        {
            type = arguments.Any(a => a is null) ? null : type.MakeGenericType([.. arguments!]);
        }

        if (position < text.Length && text[position] == '?')
        {
            position++;
            type = type is { IsValueType: true } ? typeof(Nullable<>).MakeGenericType(type) : type;
        }

        while (position + 1 < text.Length && text[position] == '[' && text[position + 1] == ']')
        {
            position += 2;
            type = type?.MakeArrayType();
        }

        return type;
    }

    private static Dictionary<(string Name, int Arity), List<Type>> IndexTypes()
    {
        var engine = typeof(DockerJson).Assembly;
        var assemblies = engine.GetReferencedAssemblies().Select(n => System.Reflection.Assembly.Load(n)).Append(engine).Append(typeof(List<>).Assembly).Distinct();
        var index = new Dictionary<(string, int), List<Type>>();
        foreach (var type in assemblies.SelectMany(LoadableTypes))
        {
            if (type.FullName is null || type.FullName.Contains('<', StringComparison.Ordinal))
            {
                continue;
            }

            var arity = type.IsGenericTypeDefinition ? type.GetGenericArguments().Length - (type.DeclaringType?.GetGenericArguments().Length ?? 0) : 0;
            var name = GenericSuffix().Replace(type.FullName.Replace('+', '.'), "");
            var key = (name, arity);
            if (!index.TryGetValue(key, out var list))
            {
                index[key] = list = [];
            }

            list.Add(type);
        }

        return index;
    }

    private static IEnumerable<Type> LoadableTypes(System.Reflection.Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (System.Reflection.ReflectionTypeLoadException e)
        {
            // A type whose dependencies are not deployed with the tests cannot be one the engine serializes.
            return e.Types.OfType<Type>();
        }
    }

    /// <summary>What a file's type names are looked up in, innermost first.</summary>
    private sealed class Scope
    {
        private readonly List<string> _namespaces = [];
        private readonly List<string> _usings = [.. s_implicitUsings];
        private readonly Dictionary<string, string> _aliases = new(StringComparer.Ordinal);
        private readonly List<string> _declaredTypes = [];

        public static Scope Of(string[] lines)
        {
            var scope = new Scope();
            foreach (var line in lines)
            {
                if (UsingAlias().Match(line) is { Success: true } alias)
                {
                    scope._aliases[alias.Groups[1].Value] = alias.Groups[2].Value;
                }
                else if (UsingNamespace().Match(line) is { Success: true } u)
                {
                    scope._usings.Add(u.Groups[1].Value);
                }
                else if (NamespaceDeclaration().Match(line) is { Success: true } n)
                {
                    var parts = n.Groups[1].Value.Split('.');
                    for (var i = parts.Length; i > 0; i--)
                    {
                        scope._namespaces.Add(string.Join('.', parts[..i]));
                    }
                }

                scope._declaredTypes.AddRange(TypeDeclaration().Matches(line).Select(m => m.Groups[1].Value));
            }

            return scope;
        }

        public Type? Find(string name, int arity)
        {
            if (_aliases.TryGetValue(name, out var target))
            {
                return One(target, arity);
            }

            // Nested types of a type declared in this file, named from inside it; then the namespaces, innermost first;
            // then the global namespace with the using directives (the compiler's order for file-level usings).
            var tiers = new List<IEnumerable<string>>
            {
                _declaredTypes.SelectMany(t => _namespaces.Select(n => $"{n}.{t}.{name}")),
            };
            tiers.AddRange(_namespaces.Select(n => (IEnumerable<string>)[$"{n}.{name}"]));
            tiers.Add([name, .. _usings.Select(u => $"{u}.{name}")]);
            foreach (var tier in tiers)
            {
                var found = tier.Select(candidate => One(candidate, arity)).OfType<Type>().Distinct().ToList();
                if (found.Count > 0)
                {
                    return found.Count == 1 ? found[0] : null;
                }
            }

            return null;
        }

        private static Type? One(string fullName, int arity) =>
            s_types.Value.TryGetValue((fullName, arity), out var types) && types.Count == 1 ? types[0] : null;
    }

    [GeneratedRegex(@"\b(?:Info|StorageInfo|ReadBodyAsync)<")]
    private static partial Regex UseStart();

    [GeneratedRegex(@"`\d+")]
    private static partial Regex GenericSuffix();

    [GeneratedRegex(@"^using\s+(\w+)\s*=\s*([\w.]+)\s*;")]
    private static partial Regex UsingAlias();

    [GeneratedRegex(@"^using\s+([\w.]+)\s*;")]
    private static partial Regex UsingNamespace();

    [GeneratedRegex(@"^namespace\s+([\w.]+)")]
    private static partial Regex NamespaceDeclaration();

    [GeneratedRegex(@"\b(?:class|record|struct|interface)\s+(\w+)")]
    private static partial Regex TypeDeclaration();
}
